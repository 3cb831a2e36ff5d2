/**
 * User-agent normalisation: a full user-agent string fingerprints a person (plugins, build
 * numbers, device models), while the browser family, its major version and the OS family are
 * what dashboards need. The output names only families from fixed lists, so nothing the
 * client wrote survives except digits of a major version.
 */

const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\b(?:OPR|Opera)\/(\d+)/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\bYaBrowser\/(\d+)/, 'Yandex'],
  [/\bVivaldi\/(\d+)/, 'Vivaldi'],
  [/\b(?:Firefox|FxiOS)\/(\d+)/, 'Firefox'],
  [/\b(?:Chrome|CriOS|Chromium)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
  [/\bMSIE (\d+)|\bTrident\/.*rv:(\d+)/, 'Internet Explorer'],
  [/\bcurl\/(\d+)/, 'curl'],
  [/\bWget\/(\d+)/, 'Wget'],
  [/\bPostmanRuntime\/(\d+)/, 'Postman'],
  [/\bpython-requests\/(\d+)/, 'python-requests'],
  [/\b(?:okhttp)\/(\d+)/, 'okhttp'],
  [/\bGo-http-client\/(\d+)/, 'Go http'],
  [/\bnode-fetch\/(\d+)|\bundici\/?(\d+)?/, 'Node.js'],
  [/\b(?:Googlebot|bingbot|DuckDuckBot|Baiduspider|YandexBot)\/(\d+)/, 'Bot'],
];

const SYSTEMS: readonly [RegExp, string][] = [
  [/\bWindows\b/, 'Windows'],
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bLinux\b/, 'Linux'],
  [/\b(?:FreeBSD|OpenBSD|NetBSD)\b/, 'BSD'],
];

const CACHE_LIMIT = 4096;

/** Maps user-agent strings to `<browser> <major> (<os>)`, remembering recent ones. */
export class UserAgentNormalizer {
  private readonly cache = new Map<string, string>();

  /** `Chrome 120 (Windows)`, `curl 8`, or `Other` when nothing is recognised. */
  normalize(ua: string): string {
    const hit = this.cache.get(ua);
    if (hit !== undefined) return hit;
    const out = normalizeUserAgent(ua);
    // Clearing beats LRU bookkeeping here: the working set of user agents is small.
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(ua, out);
    return out;
  }
}

/** Uncached normalisation of one user-agent string. */
export function normalizeUserAgent(ua: string): string {
  let browser = 'Other';
  for (const [re, name] of BROWSERS) {
    const m = re.exec(ua);
    if (!m) continue;
    const major = m[1] ?? m[2];
    browser = major ? `${name} ${Number.parseInt(major, 10)}` : name;
    break;
  }
  for (const [re, name] of SYSTEMS) {
    if (re.test(ua)) return `${browser} (${name})`;
  }
  return browser;
}
