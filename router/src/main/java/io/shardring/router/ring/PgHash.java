package io.shardring.router.ring;

/**
 * A bit-exact port of PostgreSQL's {@code hash_bytes_extended} and {@code hash_bytes_uint32_extended}
 * (Bob Jenkins' lookup3, {@code src/common/hashfn.c}) with seed 0, as computed on a little-endian
 * server (x86-64, ARM64), which is where PostgreSQL runs in practice.
 *
 * <p>Why a port and not a library: the ring's ranges must be SQL predicates that PostgreSQL evaluates
 * with its own built-in functions (row filters of logical replication accept nothing else), so the Java
 * side must produce the very same 64-bit values. The text variant encodes UTF-8 on the fly so that
 * hashing a {@code String} allocates nothing. lookup3's {@code mix} is written out in each loop rather
 * than called: it updates three ints, which Java cannot return without allocating.
 */
final class PgHash {
    private static final int INIT = 0x9e3779b9 + 3923095;

    private PgHash() {
    }

    /** {@code hash_bytes_uint32_extended(k, 0)}: hashint4extended, and hashint8extended after folding. */
    static long hashUint32(int k) {
        int a = INIT + 4;
        int b = a;
        int c = a;
        a += k;
        // final(a, b, c)
        c ^= b; c -= Integer.rotateLeft(b, 14);
        a ^= c; a -= Integer.rotateLeft(c, 11);
        b ^= a; b -= Integer.rotateLeft(a, 25);
        c ^= b; c -= Integer.rotateLeft(b, 16);
        a ^= c; a -= Integer.rotateLeft(c, 4);
        b ^= a; b -= Integer.rotateLeft(a, 14);
        c ^= b; c -= Integer.rotateLeft(b, 24);
        return ((long) b << 32) | (c & 0xffffffffL);
    }

    /** {@code hashint8extended(v, 0)}: PostgreSQL folds the high half into the low half first. */
    static long hashInt8(long v) {
        int lo = (int) v;
        int hi = (int) (v >>> 32);
        lo ^= v >= 0 ? hi : ~hi;
        return hashUint32(lo);
    }

    /** {@code hash_bytes_extended(bytes, len, 0)}. */
    static long hashBytes(byte[] k, int off, int len) {
        int a = INIT + len;
        int b = a;
        int c = a;
        int p = off;
        int rest = len;
        while (rest >= 12) {
            a += le32(k, p);
            b += le32(k, p + 4);
            c += le32(k, p + 8);
            // mix(a, b, c)
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
            p += 12;
            rest -= 12;
        }
        // The tail: bytes 0..3 go to a, 4..7 to b, 8..10 to c shifted up by one byte,
        // because the lowest byte of c is reserved for the length in lookup3.
        for (int i = 0; i < rest; i++) {
            int v = k[p + i] & 0xff;
            if (i < 4) {
                a += v << (8 * i);
            } else if (i < 8) {
                b += v << (8 * (i - 4));
            } else {
                c += v << (8 * (i - 7));
            }
        }
        return fin(a, b, c);
    }

    /**
     * {@code hash_bytes_extended} over the UTF-8 encoding of {@code s}, without materialising the bytes.
     * lookup3 mixes the byte length in first; for ASCII that is the char count, so one pass suffices.
     *
     * @throws IllegalArgumentException if {@code s} holds an unpaired surrogate, which PostgreSQL text cannot store
     */
    @SuppressWarnings("fallthrough")
    static long hashUtf8(CharSequence s) {
        // Optimistic single pass: for ASCII the UTF-8 length is the char count, so hash chars as bytes and
        // remember every char seen; if one was not ASCII, start again on the multi-byte path.
        int n = s.length();
        int a = INIT + n;
        int b = a;
        int c = a;
        int seen = 0;
        int p = 0;
        int rest = n;
        while (rest >= 12) {
            int c0 = s.charAt(p);
            int c1 = s.charAt(p + 1);
            int c2 = s.charAt(p + 2);
            int c3 = s.charAt(p + 3);
            int c4 = s.charAt(p + 4);
            int c5 = s.charAt(p + 5);
            int c6 = s.charAt(p + 6);
            int c7 = s.charAt(p + 7);
            int c8 = s.charAt(p + 8);
            int c9 = s.charAt(p + 9);
            int c10 = s.charAt(p + 10);
            int c11 = s.charAt(p + 11);
            seen |= c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10 | c11;
            int w0 = c0 | c1 << 8 | c2 << 16 | c3 << 24;
            int w1 = c4 | c5 << 8 | c6 << 16 | c7 << 24;
            int w2 = c8 | c9 << 8 | c10 << 16 | c11 << 24;
            a += w0;
            b += w1;
            c += w2;
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
            p += 12;
            rest -= 12;
        }
        // the tail, as lookup3 takes it: bytes 0..3 to a, 4..7 to b, 8..10 to c above its length byte
        int v;
        switch (rest) {
            case 11: v = s.charAt(p + 10); seen |= v; c += v << 24;
            case 10: v = s.charAt(p + 9); seen |= v; c += v << 16;
            case 9: v = s.charAt(p + 8); seen |= v; c += v << 8;
            case 8: v = s.charAt(p + 7); seen |= v; b += v << 24;
            case 7: v = s.charAt(p + 6); seen |= v; b += v << 16;
            case 6: v = s.charAt(p + 5); seen |= v; b += v << 8;
            case 5: v = s.charAt(p + 4); seen |= v; b += v;
            case 4: v = s.charAt(p + 3); seen |= v; a += v << 24;
            case 3: v = s.charAt(p + 2); seen |= v; a += v << 16;
            case 2: v = s.charAt(p + 1); seen |= v; a += v << 8;
            case 1: v = s.charAt(p); seen |= v; a += v;
            default: break;
        }
        if (seen >= 0x80) {
            int len = utf8Length(s, n);
            return hashMultiByte(s, n, len, INIT + len);
        }
        return fin(a, b, c);
    }

    private static long hashMultiByte(CharSequence s, int n, int len, int init) {
        // A 12-byte window as three little-endian words, filled byte by byte as chars are encoded.
        int a = init;
        int b = init;
        int c = init;
        int wa = 0;
        int wb = 0;
        int wc = 0;
        int fill = 0;
        int remaining = len;
        for (int i = 0; i < n; i++) {
            int cp = s.charAt(i);
            int bytes;
            int enc;
            if (cp < 0x80) {
                bytes = 1;
                enc = cp;
            } else if (cp < 0x800) {
                bytes = 2;
                enc = (0xc0 | (cp >>> 6)) | ((0x80 | (cp & 0x3f)) << 8);
            } else if (Character.isHighSurrogate((char) cp)) {
                cp = Character.toCodePoint((char) cp, s.charAt(++i));
                bytes = 4;
                enc = (0xf0 | (cp >>> 18))
                        | ((0x80 | ((cp >>> 12) & 0x3f)) << 8)
                        | ((0x80 | ((cp >>> 6) & 0x3f)) << 16)
                        | ((0x80 | (cp & 0x3f)) << 24);
            } else {
                bytes = 3;
                enc = (0xe0 | (cp >>> 12)) | ((0x80 | ((cp >>> 6) & 0x3f)) << 8) | ((0x80 | (cp & 0x3f)) << 16);
            }
            for (int j = 0; j < bytes; j++) {
                int v = (enc >>> (8 * j)) & 0xff;
                if (remaining >= 12) {
                    // inside a full block: plain little-endian words
                    if (fill < 4) {
                        wa |= v << (8 * fill);
                    } else if (fill < 8) {
                        wb |= v << (8 * (fill - 4));
                    } else {
                        wc |= v << (8 * (fill - 8));
                    }
                    if (++fill == 12) {
                        a += wa;
                        b += wb;
                        c += wc;
                        a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
                        b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
                        c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
                        a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
                        b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
                        c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
                        wa = 0;
                        wb = 0;
                        wc = 0;
                        fill = 0;
                        remaining -= 12;
                    }
                } else {
                    // the tail: c's lowest byte is reserved for the length
                    if (fill < 4) {
                        a += v << (8 * fill);
                    } else if (fill < 8) {
                        b += v << (8 * (fill - 4));
                    } else {
                        c += v << (8 * (fill - 7));
                    }
                    fill++;
                }
            }
        }
        return fin(a, b, c);
    }

    /** The UTF-8 length of {@code s}; rejects unpaired surrogates, as PostgreSQL text cannot hold them. */
    static int utf8Length(CharSequence s, int n) {
        int len = n;
        for (int i = 0; i < n; i++) {
            char ch = s.charAt(i);
            if (ch >= 0x80) {
                if (ch < 0x800) {
                    len += 1;
                } else if (Character.isSurrogate(ch)) {
                    if (Character.isHighSurrogate(ch) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                        len += 2; // 2 chars -> 4 bytes
                        i++;
                    } else {
                        throw new IllegalArgumentException("unpaired UTF-16 surrogate at index " + i
                                + " cannot be stored in PostgreSQL text; fix the key's encoding");
                    }
                } else {
                    len += 2;
                }
            }
        }
        return len;
    }

    /** {@code uuid_hash_extended(u, 0)}: lookup3 over the 16 bytes in network order. */
    static long hashUuid(long msb, long lsb) {
        int a = INIT + 16;
        int b = a;
        int c = a;
        a += Integer.reverseBytes((int) (msb >>> 32));
        b += Integer.reverseBytes((int) msb);
        c += Integer.reverseBytes((int) (lsb >>> 32));
        a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
        b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
        c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
        a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
        b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
        c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
        // 4 bytes left: they all go to a
        a += Integer.reverseBytes((int) lsb);
        return fin(a, b, c);
    }

    private static int le32(byte[] k, int p) {
        return (k[p] & 0xff) | (k[p + 1] & 0xff) << 8 | (k[p + 2] & 0xff) << 16 | (k[p + 3] & 0xff) << 24;
    }

    private static long fin(int a, int b, int c) {
        c ^= b; c -= Integer.rotateLeft(b, 14);
        a ^= c; a -= Integer.rotateLeft(c, 11);
        b ^= a; b -= Integer.rotateLeft(a, 25);
        c ^= b; c -= Integer.rotateLeft(b, 16);
        a ^= c; a -= Integer.rotateLeft(c, 4);
        b ^= a; b -= Integer.rotateLeft(a, 14);
        c ^= b; c -= Integer.rotateLeft(b, 24);
        return ((long) b << 32) | (c & 0xffffffffL);
    }
}
