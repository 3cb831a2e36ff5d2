import type { RedactionConfig } from './config.ts';

/**
 * URL minimisation: query strings and fragments carry search terms, tokens and e-mail
 * addresses; userinfo carries passwords. Scheme, host and path stay, so a URL still says which
 * page or endpoint was used. Runs before the value detectors, which then scan what is left.
 */

const URL_RE = /\b(?:https?|wss?|ftp):\/\/[^\s"'<>`]+/giu;

/** Rewrites the URLs inside strings as the `urls` config says. */
export class UrlStripper {
  private readonly stripQuery: boolean;
  private readonly stripFragment: boolean;
  private readonly stripUserinfo: boolean;
  /** Set by `strip` when the last call changed something. */
  changed = false;

  constructor(config: RedactionConfig['urls']) {
    this.stripQuery = config.strip_query;
    this.stripFragment = config.strip_fragment;
    this.stripUserinfo = config.strip_userinfo;
  }

  /** True when nothing is configured, so callers can skip the scan. */
  get disabled(): boolean {
    return !this.stripQuery && !this.stripFragment && !this.stripUserinfo;
  }

  /** `s` with every URL minimised; sets `changed`. */
  strip(s: string): string {
    this.changed = false;
    if (!s.includes('://')) return s;
    return s.replace(URL_RE, (url) => {
      const out = this.stripOne(url);
      if (out !== url) this.changed = true;
      return out;
    });
  }

  private stripOne(url: string): string {
    const schemeEnd = url.indexOf('://') + 3;
    let end = url.length;
    const hash = url.indexOf('#', schemeEnd);
    if (this.stripFragment && hash >= 0) end = hash;
    const query = url.indexOf('?', schemeEnd);
    if (this.stripQuery && query >= 0 && query < end) end = query;
    let out = url.slice(0, end);
    if (this.stripUserinfo) {
      let authEnd = out.length;
      for (const c of ['/', '?', '#']) {
        const i = out.indexOf(c, schemeEnd);
        if (i >= 0 && i < authEnd) authEnd = i;
      }
      const at = out.lastIndexOf('@', authEnd - 1);
      if (at >= schemeEnd) out = out.slice(0, schemeEnd) + out.slice(at + 1);
    }
    return out;
  }
}
