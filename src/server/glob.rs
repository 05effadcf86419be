//! Redis's glob patterns (KEYS, SCAN MATCH, PSUBSCRIBE): `*` any run, `?` one byte, `[abc]`,
//! `[^a]`, `[a-z]` classes, and `\` to quote the next byte. Bytes, not characters, as in Redis.

/// True when `text` matches `pattern`.
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative with one backtrack point: the last `*` seen, as Redis's own matcher behaves
    // but without its recursion (a pattern of many stars cannot exhaust the stack).
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some(&c) => {
                if let Some((matched, next)) = one(pattern, p, c, text[t]) {
                    if matched {
                        p = next;
                        t += 1;
                        continue;
                    }
                }
            }
            None => {}
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

/// Whether the pattern element at `p` (first byte `c`) matches byte `b`, and where the next
/// element starts.
fn one(pattern: &[u8], p: usize, c: u8, b: u8) -> Option<(bool, usize)> {
    match c {
        b'?' => Some((true, p + 1)),
        b'\\' => match pattern.get(p + 1) {
            Some(&q) => Some((q == b, p + 2)),
            None => Some((b == b'\\', p + 1)),
        },
        b'[' => {
            let mut i = p + 1;
            let negate = pattern.get(i) == Some(&b'^');
            if negate {
                i += 1;
            }
            let mut hit = false;
            loop {
                match pattern.get(i) {
                    None => break,
                    Some(b']') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        if pattern.get(i + 1) == Some(&b) {
                            hit = true;
                        }
                        i += 2;
                    }
                    Some(&lo)
                        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&e| e != b']') =>
                    {
                        let hi = pattern.get(i + 2).copied().unwrap_or(lo);
                        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                        if (lo..=hi).contains(&b) {
                            hit = true;
                        }
                        i += 3;
                    }
                    Some(&x) => {
                        if x == b {
                            hit = true;
                        }
                        i += 1;
                    }
                }
            }
            Some((hit != negate, i))
        }
        _ => Some((c == b, p + 1)),
    }
}

/// The bytes every match must start with: the pattern up to its first special byte. KEYS and
/// SCAN seek there instead of reading every key.
pub fn literal_prefix(pattern: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = pattern.get(i) {
        match c {
            b'*' | b'?' | b'[' => break,
            b'\\' => match pattern.get(i + 1) {
                Some(&q) => {
                    out.push(q);
                    i += 2;
                }
                None => break,
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_glob_semantics() {
        let yes: [(&[u8], &[u8]); 10] = [
            (b"*", b""),
            (b"*", b"anything"),
            (b"h?llo", b"hello"),
            (b"h*llo", b"heeeello"),
            (b"h[ae]llo", b"hallo"),
            (b"h[^e]llo", b"hallo"),
            (b"h[a-b]llo", b"hbllo"),
            (b"a\\*b", b"a*b"),
            (b"user:*:name", b"user:42:name"),
            (b"*a*b*c*", b"xxaxxbxxcxx"),
        ];
        for (p, t) in yes {
            assert!(matches(p, t), "{:?} ~ {:?}", p, t);
        }
        let no: [(&[u8], &[u8]); 6] = [
            (b"h?llo", b"hllo"),
            (b"h[^e]llo", b"hello"),
            (b"h[a-b]llo", b"hcllo"),
            (b"a\\*b", b"axb"),
            (b"abc", b"abcd"),
            (b"*a*b*c*", b"xxaxxcxxbxx"),
        ];
        for (p, t) in no {
            assert!(!matches(p, t), "{:?} !~ {:?}", p, t);
        }
        assert_eq!(literal_prefix(b"user:\\*:*"), b"user:*:");
        assert_eq!(literal_prefix(b"*x"), b"");
    }

    #[test]
    fn hostile_patterns_finish() {
        let pattern = [b'*'; 2000];
        assert!(matches(&pattern, &[b'a'; 2000]));
        let mut p = b"*a".repeat(50);
        p.push(b'b');
        assert!(!matches(&p, &[b'a'; 3000]));
        assert!(!matches(b"[", b"a"));
    }
}
