package dev.dsv32.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns ids into text as they arrive from a decoder, returning only complete characters: a multi-byte UTF-8
 * character split over several tokens is held back until its last byte comes, so no U+FFFD appears mid-stream.
 * Invalid bytes that can never complete are replaced by U+FFFD as {@link Tokenizer#decode} does, so the concatenated
 * output equals {@code decode(allIds)}. One per stream; not thread-safe.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private byte[] pending = new byte[16];
    private int pendingLength;
    private int position;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** Adds one id; returns the text it completes (possibly empty). */
    public String push(int id) {
        tokenizer.checkId(id, position++);
        if (skipSpecial && tokenizer.isSpecial(id)) return "";
        TokenizerModel m = tokenizer.model();
        int len = m.offsets[id + 1] - m.offsets[id];
        if (pendingLength + len > pending.length) pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + len));
        System.arraycopy(m.blob, m.offsets[id], pending, pendingLength, len);
        pendingLength += len;
        int complete = completePrefix(pending, pendingLength);
        if (complete == 0) return "";
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
        pendingLength -= complete;
        return text;
    }

    /** Ends the stream: returns whatever is held back (an unfinished character becomes U+FFFD). */
    public String finish() {
        String text = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return text;
    }

    /** Bytes held back, waiting for the rest of a character. */
    public int pendingBytes() {
        return pendingLength;
    }

    /**
     * Length of the longest prefix that does not end inside a UTF-8 sequence that could still complete: the tail kept
     * back is a lead byte followed by fewer continuation bytes than it announces (at most 3 bytes).
     */
    static int completePrefix(byte[] b, int n) {
        int start = Math.max(0, n - 3);
        for (int i = n - 1; i >= start; i--) {
            int c = b[i] & 0xFF;
            if (c < 0x80) return n; // ASCII: nothing incomplete after it
            if (c >= 0xC0) {
                int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (c >= 0xF5 || c == 0xC0 || c == 0xC1) return n; // never valid: decodes to U+FFFD now
                if (n - i >= need) return n;
                if (!couldComplete(b, i, n)) return n;
                return i;
            }
        }
        return n;
    }

    /** Whether b[i..n) is a valid prefix of a UTF-8 sequence (second-byte ranges per RFC 3629). */
    private static boolean couldComplete(byte[] b, int i, int n) {
        int lead = b[i] & 0xFF;
        if (n - i >= 2) {
            int second = b[i + 1] & 0xFF;
            int lo = 0x80;
            int hi = 0xBF;
            if (lead == 0xE0) lo = 0xA0;
            else if (lead == 0xED) hi = 0x9F;
            else if (lead == 0xF0) lo = 0x90;
            else if (lead == 0xF4) hi = 0x8F;
            if (second < lo || second > hi) return false;
        }
        if (n - i >= 3 && ((b[i + 2] & 0xC0) != 0x80)) return false;
        return true;
    }
}
