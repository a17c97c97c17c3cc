package dev.dsv32.tokenizer;

import static dev.dsv32.tokenizer.UnicodeClasses.L;
import static dev.dsv32.tokenizer.UnicodeClasses.M;
import static dev.dsv32.tokenizer.UnicodeClasses.N;
import static dev.dsv32.tokenizer.UnicodeClasses.P;
import static dev.dsv32.tokenizer.UnicodeClasses.S;
import static dev.dsv32.tokenizer.UnicodeClasses.WS;

/**
 * The V3.2 pre-tokenizer (tokenizer.md §1.2): three {@code Split} steps, each {@code Isolated}, applied in sequence
 * (each step splits every piece the previous one produced), hand-written rather than run through a regex engine:
 * <ol>
 *   <li>{@code \p{N}{1,3}}: runs of numbers, cut into groups of three from the left;</li>
 *   <li>{@code [一-龥぀-ゟ゠-ヿ]+}: runs of CJK ideographs U+4E00–U+9FA5 and kana U+3040–U+30FF;</li>
 *   <li>{@code [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
 *       with Oniguruma's leftmost, first-alternative semantics; text no alternative matches stays a piece of its own.</li>
 * </ol>
 * Character classes come from {@link UnicodeClasses} (Unicode 16.0.0), not from the JDK.
 */
final class PreTokenizer {
    private PreTokenizer() {}

    /** Receives pieces as [start, end) char ranges, in order, covering the input. */
    interface Sink {
        void piece(int start, int end);
    }

    static void split(String s, int start, int end, Sink sink) {
        int i = start;
        int gap = start;
        while (i < end) {
            int cp = s.codePointAt(i);
            if ((UnicodeClasses.of(cp) & N) != 0) {
                if (gap < i) splitCjk(s, gap, i, sink);
                int j = i;
                for (int count = 0; count < 3 && j < end; count++) {
                    int c = s.codePointAt(j);
                    if ((UnicodeClasses.of(c) & N) == 0) break;
                    j += Character.charCount(c);
                }
                sink.piece(i, j); // steps 2 and 3 never split a run of numbers
                i = j;
                gap = j;
            } else {
                i += Character.charCount(cp);
            }
        }
        if (gap < end) splitCjk(s, gap, end, sink);
    }

    private static boolean isCjk(char c) {
        return (c >= '\u4E00' && c <= '\u9FA5') || (c >= '\u3040' && c <= '\u30FF');
    }

    private static void splitCjk(String s, int start, int end, Sink sink) {
        int i = start;
        int gap = start;
        while (i < end) {
            if (isCjk(s.charAt(i))) {
                int j = i + 1;
                while (j < end && isCjk(s.charAt(j))) j++;
                if (gap < i) splitWords(s, gap, i, sink);
                splitWords(s, i, j, sink);
                i = j;
                gap = j;
            } else {
                i++;
            }
        }
        if (gap < end) splitWords(s, gap, end, sink);
    }

    private static void splitWords(String s, int start, int end, Sink sink) {
        int i = start;
        int gap = start;
        while (i < end) {
            int m = matchAt(s, i, end);
            if (m > i) {
                if (gap < i) sink.piece(gap, i);
                sink.piece(i, m);
                i = m;
                gap = m;
            } else {
                i += Character.charCount(s.codePointAt(i));
            }
        }
        if (gap < end) sink.piece(gap, end);
    }

    private static boolean isAsciiPunct(int c) {
        return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
    }

    private static boolean isAsciiLetter(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    private static boolean isCrLf(int c) {
        return c == '\r' || c == '\n';
    }

    /** End of the regex-3 match starting at i, or -1. */
    private static int matchAt(String s, int i, int end) {
        int c = s.codePointAt(i);
        int ci = i + Character.charCount(c);
        int f = UnicodeClasses.of(c);

        // 1. [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
        if (isAsciiPunct(c) && ci < end && isAsciiLetter(s.charAt(ci))) {
            int j = ci + 1;
            while (j < end && isAsciiLetter(s.charAt(j))) j++;
            return j;
        }
        // 2. [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
        if (!isCrLf(c) && (f & (L | P | S)) == 0 && ci < end) {
            int j = letterRun(s, ci, end);
            if (j > ci) return j;
        }
        if ((f & (L | M)) != 0) return letterRun(s, i, end);
        // 3.  ?[\p{P}\p{S}]+[\r\n]*
        int k = c == ' ' ? ci : i;
        if (k < end) {
            int j = k;
            while (j < end) {
                int d = s.codePointAt(j);
                if ((UnicodeClasses.of(d) & (P | S)) == 0) break;
                j += Character.charCount(d);
            }
            if (j > k) {
                while (j < end && isCrLf(s.charAt(j))) j++;
                return j;
            }
        }
        // 4. \s*[\r\n]+   5. \s+(?!\S)   6. \s+   (whitespace is all in the BMP)
        if ((f & WS) == 0) return -1;
        int j = i;
        int lastCrLf = -1;
        while (j < end && (UnicodeClasses.of(s.charAt(j)) & WS) != 0 && !Character.isSurrogate(s.charAt(j))) {
            if (isCrLf(s.charAt(j))) lastCrLf = j;
            j++;
        }
        if (lastCrLf >= 0) return lastCrLf + 1;
        if (j == end) return j;
        if (j - i >= 2) return j - 1;
        return j;
    }

    private static int letterRun(String s, int from, int end) {
        int j = from;
        while (j < end) {
            int d = s.codePointAt(j);
            if ((UnicodeClasses.of(d) & (L | M)) == 0) break;
            j += Character.charCount(d);
        }
        return j;
    }
}
