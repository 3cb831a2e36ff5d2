// Command ledgerverify checks ledgerline's audit ledger with the Go ecosystem's own
// transparency-log code, written by people who never saw ledgerline:
// golang.org/x/mod/sumdb/note (signed notes), golang.org/x/mod/sumdb/tlog (tiles, record and
// tree proofs) and github.com/transparency-dev/merkle (RFC 6962 proof verification).
//
// It reads one JSON request on stdin, {"vkeys": [...], "cases": [...]}, and writes one JSON
// array of results to stdout, one per case, in order. Every case answers ok or an error.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	VKeys []string `json:"vkeys"`
	Cases []tcase  `json:"cases"`
}

type tcase struct {
	Kind   string   `json:"kind"`
	Note   string   `json:"note"`
	Origin string   `json:"origin"`
	Dir    string   `json:"dir"`
	Text   string   `json:"text"`
	Entry  string   `json:"entry"` // base64
	Index  uint64   `json:"index"`
	Size   uint64   `json:"size"`
	Size1  uint64   `json:"size1"`
	Size2  uint64   `json:"size2"`
	Leaf   string   `json:"leaf"` // hex
	Root   string   `json:"root"`
	Root1  string   `json:"root1"`
	Root2  string   `json:"root2"`
	Proof  []string `json:"proof"` // hex
}

type result struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Second opinion from x/mod/sumdb/tlog where it is defined for the inputs.
	Tlog  *bool  `json:"tlog,omitempty"`
	Size  int64  `json:"size,omitempty"`
	Root  string `json:"root,omitempty"`
	Count int64  `json:"count,omitempty"`
	// Keys and note made by Go, for checking our side reads them.
	SKey   string `json:"skey,omitempty"`
	VKey   string `json:"vkey,omitempty"`
	Signed string `json:"signed,omitempty"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerverify: bad request:", err)
		os.Exit(2)
	}
	var verifiers []note.Verifier
	for _, k := range req.VKeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ledgerverify: bad verifier key:", err)
			os.Exit(2)
		}
		verifiers = append(verifiers, v)
	}
	keys := note.VerifierList(verifiers...)
	out := make([]result, 0, len(req.Cases))
	for _, c := range req.Cases {
		out = append(out, run(c, keys))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(2)
	}
}

func fail(err error) result { return result{OK: false, Error: err.Error()} }

func run(c tcase, keys note.Verifiers) result {
	switch c.Kind {
	case "checkpoint":
		cp, err := openCheckpoint([]byte(c.Note), keys, c.Origin)
		if err != nil {
			return fail(err)
		}
		return result{OK: true, Size: cp.size, Root: hex.EncodeToString(cp.root[:])}
	case "inclusion":
		return inclusion(c)
	case "consistency":
		return consistency(c)
	case "log":
		return logDir(c, keys)
	case "proof-file":
		return proofFile(c, keys)
	case "sign":
		return signWithGo(c)
	}
	return fail(fmt.Errorf("unknown case kind %q", c.Kind))
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// openCheckpoint verifies the note signature with x/mod's note package, then parses the
// tlog-checkpoint body: origin line, decimal size, base64 root hash.
func openCheckpoint(msg []byte, keys note.Verifiers, origin string) (checkpoint, error) {
	n, err := note.Open(msg, keys)
	if err != nil {
		return checkpoint{}, err
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return checkpoint{}, errors.New("checkpoint: too few lines")
	}
	if origin != "" && lines[0] != origin {
		return checkpoint{}, fmt.Errorf("checkpoint: origin %q, want %q", lines[0], origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, errors.New("checkpoint: bad size")
	}
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		return checkpoint{}, errors.New("checkpoint: bad root hash")
	}
	return checkpoint{origin: lines[0], size: size, root: h}, nil
}

func hashes(hs []string) ([][]byte, []tlog.Hash, error) {
	raw := make([][]byte, 0, len(hs))
	th := make([]tlog.Hash, 0, len(hs))
	for _, s := range hs {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, nil, errors.New("bad hash")
		}
		raw = append(raw, b)
		var h tlog.Hash
		copy(h[:], b)
		th = append(th, h)
	}
	return raw, th, nil
}

func one(s string) ([]byte, tlog.Hash, error) {
	raw, th, err := hashes([]string{s})
	if err != nil {
		return nil, tlog.Hash{}, err
	}
	return raw[0], th[0], nil
}

func inclusion(c tcase) result {
	p, tp, err := hashes(c.Proof)
	if err != nil {
		return fail(err)
	}
	leaf, tleaf, err := one(c.Leaf)
	if err != nil {
		return fail(err)
	}
	root, troot, err := one(c.Root)
	if err != nil {
		return fail(err)
	}
	r := result{OK: true}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, c.Index, c.Size, leaf, p, root); err != nil {
		r = fail(err)
	}
	if c.Index < c.Size {
		ok := tlog.CheckRecord(tlog.RecordProof(tp), int64(c.Size), troot, int64(c.Index), tleaf) == nil
		r.Tlog = &ok
	}
	return r
}

func consistency(c tcase) result {
	p, tp, err := hashes(c.Proof)
	if err != nil {
		return fail(err)
	}
	root1, troot1, err := one(c.Root1)
	if err != nil {
		return fail(err)
	}
	root2, troot2, err := one(c.Root2)
	if err != nil {
		return fail(err)
	}
	r := result{OK: true}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, c.Size1, c.Size2, p, root1, root2); err != nil {
		r = fail(err)
	}
	if c.Size1 >= 1 && c.Size1 <= c.Size2 {
		ok := tlog.CheckTree(tlog.TreeProof(tp), int64(c.Size2), troot2, int64(c.Size1), troot1) == nil
		r.Tlog = &ok
	}
	return r
}

// dirTiles serves tlog tiles from a ledgerline tenant directory (C2SP tlog-tiles layout).
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) path(t tlog.Tile) string {
	// x/mod writes tile/8/<L>/<N> and tile/8/data/<N>; tlog-tiles drops the height.
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	p = strings.Replace(p, "data/", "entries/", 1)
	return filepath.Join(d.dir, "tile", p)
}

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(d.path(t))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// logDir checks a whole tenant log: the checkpoint signature, every tile against the signed
// root (TileHashReader authenticates each tile it reads), every entry bundle against the
// level-0 hashes, and record and tree proofs computed by tlog itself.
func logDir(c tcase, keys note.Verifiers) result {
	msg, err := os.ReadFile(filepath.Join(c.Dir, "checkpoint"))
	if err != nil {
		return fail(err)
	}
	cp, err := openCheckpoint(msg, keys, c.Origin)
	if err != nil {
		return fail(err)
	}
	tiles := dirTiles{c.Dir}
	r := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, tiles)
	th, err := tlog.TreeHash(cp.size, r)
	if err != nil {
		return fail(fmt.Errorf("tree hash: %w", err))
	}
	if th != cp.root {
		return fail(errors.New("tree hash from tiles differs from the checkpoint"))
	}
	for start := int64(0); start < cp.size; start += 256 {
		w := cp.size - start
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: start / 256, W: int(w)}
		data, err := os.ReadFile(tiles.path(t))
		if err != nil {
			return fail(err)
		}
		entries, err := splitBundle(data)
		if err != nil {
			return fail(fmt.Errorf("bundle %d: %w", t.N, err))
		}
		if int64(len(entries)) != w {
			return fail(fmt.Errorf("bundle %d holds %d entries, want %d", t.N, len(entries), w))
		}
		idx := make([]int64, w)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		stored, err := r.ReadHashes(idx)
		if err != nil {
			return fail(fmt.Errorf("leaf hashes %d: %w", start, err))
		}
		for i, e := range entries {
			if tlog.RecordHash(e) != stored[i] {
				return fail(fmt.Errorf("entry %d does not hash to its tile", start+int64(i)))
			}
		}
	}
	// Proofs that tlog computes from our tiles must check out against the signed root.
	for _, n := range []int64{0, cp.size / 3, cp.size / 2, cp.size - 1} {
		if n < 0 || n >= cp.size {
			continue
		}
		p, err := tlog.ProveRecord(cp.size, n, r)
		if err != nil {
			return fail(err)
		}
		leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, n)})
		if err != nil {
			return fail(err)
		}
		if err := tlog.CheckRecord(p, cp.size, cp.root, n, leaf[0]); err != nil {
			return fail(fmt.Errorf("record proof %d: %w", n, err))
		}
		if n >= 1 {
			tp, err := tlog.ProveTree(cp.size, n, r)
			if err != nil {
				return fail(err)
			}
			old, err := tlog.TreeHash(n, r)
			if err != nil {
				return fail(err)
			}
			if err := tlog.CheckTree(tp, cp.size, cp.root, n, old); err != nil {
				return fail(fmt.Errorf("tree proof %d: %w", n, err))
			}
		}
	}
	return result{OK: true, Size: cp.size, Root: hex.EncodeToString(cp.root[:]), Count: cp.size}
}

func splitBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("truncated entry")
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

// proofFile parses a c2sp.org/tlog-proof@v1 file independently and checks it.
func proofFile(c tcase, keys note.Verifiers) result {
	entry, err := base64.StdEncoding.DecodeString(c.Entry)
	if err != nil {
		return fail(err)
	}
	text := c.Text
	head, cpText, found := strings.Cut(text, "\n\n")
	if !found {
		return fail(errors.New("proof: no blank line"))
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 2 || lines[0] != "c2sp.org/tlog-proof@v1" {
		return fail(errors.New("proof: bad header"))
	}
	lines = lines[1:]
	if strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return fail(errors.New("proof: no index line"))
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "index "), 10, 64)
	if err != nil {
		return fail(err)
	}
	var p tlog.RecordProof
	for _, l := range lines[1:] {
		h, err := tlog.ParseHash(l)
		if err != nil {
			return fail(err)
		}
		p = append(p, h)
	}
	cp, err := openCheckpoint([]byte(cpText), keys, c.Origin)
	if err != nil {
		return fail(err)
	}
	if err := tlog.CheckRecord(p, cp.size, cp.root, index, tlog.RecordHash(entry)); err != nil {
		return fail(err)
	}
	if !bytes.Equal([]byte(text[len(head)+2:]), []byte(cpText)) {
		return fail(errors.New("proof: checkpoint not verbatim"))
	}
	return result{OK: true, Size: cp.size}
}

// signWithGo makes a key pair with note.GenerateKey and signs c.Text with it.
func signWithGo(c tcase) result {
	skey, vkey, err := note.GenerateKey(rand.Reader, c.Origin)
	if err != nil {
		return fail(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return fail(err)
	}
	msg, err := note.Sign(&note.Note{Text: c.Text}, signer)
	if err != nil {
		return fail(err)
	}
	return result{OK: true, SKey: skey, VKey: vkey, Signed: string(msg)}
}
