package dev.dsv32.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the tokenizer needs, resolved to ids: for each id its kind and the bytes the decoder emits for it (all
 * in one array), the added tokens, the byte-to-id table, and the merges as id triples. Built from a
 * {@code tokenizer.json} ({@link #fromJson}) or read from the compact form the build precompiles from it
 * ({@link #read}): a handful of bulk array reads, no per-token objects, so it loads in milliseconds.
 */
final class TokenizerModel {
    private static final int MAGIC = 0x44535634; // "DSV4"
    private static final int FORMAT = 2;
    static final byte NONE = 0;
    static final byte VOCAB = 1;
    static final byte ADDED = 2;
    static final byte ADDED_SPECIAL = 3;

    /** Kind of each id: NONE, VOCAB, ADDED or ADDED_SPECIAL. */
    final byte[] kinds;
    /** Decoder bytes of id i are blob[offsets[i], offsets[i + 1]). */
    final int[] offsets;
    final byte[] blob;
    /** Added tokens: content to id. */
    final Map<String, Integer> added;
    final int[] byteToId;
    final int[] mergeLeft;
    final int[] mergeRight;
    final int[] mergeResult;

    private TokenizerModel(byte[] kinds, int[] offsets, byte[] blob, Map<String, Integer> added, int[] byteToId,
                           int[] mergeLeft, int[] mergeRight, int[] mergeResult) {
        this.kinds = kinds;
        this.offsets = offsets;
        this.blob = blob;
        this.added = added;
        this.byteToId = byteToId;
        this.mergeLeft = mergeLeft;
        this.mergeRight = mergeRight;
        this.mergeResult = mergeResult;
    }

    int size() {
        return kinds.length;
    }

    boolean isSpecial(int id) {
        return kinds[id] == ADDED_SPECIAL;
    }

    /** Token string: the added token's content, or the vocab token in byte-level form. */
    String token(int id) {
        switch (kinds[id]) {
            case NONE:
                return null;
            case VOCAB: {
                char[] c = new char[offsets[id + 1] - offsets[id]];
                for (int i = 0; i < c.length; i++) c[i] = ByteLevel.BYTE_TO_CHAR[blob[offsets[id] + i] & 0xFF];
                return new String(c);
            }
            default:
                for (Map.Entry<String, Integer> e : added.entrySet()) if (e.getValue() == id) return e.getKey();
                return null;
        }
    }

    /** Resolves the parsed JSON: vocab ids, merge ids, and the decoder's bytes for each id. */
    static TokenizerModel fromJson(TokenizerLoader.Data d, String source) {
        int maxId = -1;
        for (int id : d.vocab.values()) maxId = Math.max(maxId, id);
        for (int id : d.added.values()) maxId = Math.max(maxId, id);
        String[] idToToken = new String[maxId + 1];
        byte[] kinds = new byte[maxId + 1];
        for (Map.Entry<String, Integer> e : d.vocab.entrySet()) {
            if (e.getValue() < 0) throw new TokenizerException(source + ": model.vocab[" + e.getKey() + "]: negative id");
            if (d.added.containsKey(e.getKey())) continue; // ids 0-2 are in both lists; the added entry decides
            if (ByteLevel.tokenBytes(e.getKey()) == null) {
                throw new TokenizerException(source + ": model.vocab[" + e.getKey() + "]: not a byte-level token");
            }
            idToToken[e.getValue()] = e.getKey();
            kinds[e.getValue()] = VOCAB;
        }
        for (Map.Entry<String, Integer> e : d.added.entrySet()) {
            if (e.getValue() < 0) throw new TokenizerException(source + ": added_tokens: negative id for " + e.getKey());
            idToToken[e.getValue()] = e.getKey();
            kinds[e.getValue()] = Boolean.TRUE.equals(d.addedSpecial.get(e.getValue())) ? ADDED_SPECIAL : ADDED;
        }
        ByteArrayOutputStream blob = new ByteArrayOutputStream(1 << 20);
        int[] offsets = new int[maxId + 2];
        for (int id = 0; id <= maxId; id++) {
            offsets[id] = blob.size();
            if (idToToken[id] != null) blob.writeBytes(decoderBytes(idToToken[id]));
        }
        offsets[maxId + 1] = blob.size();
        int[] byteToId = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = d.vocab.get(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
            if (id == null) throw new TokenizerException(source + ": model.vocab has no token for byte " + b);
            byteToId[b] = id;
        }
        int n = d.merges.size();
        int[] left = new int[n];
        int[] right = new int[n];
        int[] result = new int[n];
        for (int r = 0; r < n; r++) {
            String[] m = d.merges.get(r);
            Integer a = d.vocab.get(m[0]);
            Integer b = d.vocab.get(m[1]);
            Integer ab = d.vocab.get(m[0] + m[1]);
            if (a == null || b == null || ab == null) {
                throw new TokenizerException(source + ": model.merges[" + r + "] \"" + m[0] + " " + m[1] + "\": "
                        + (a == null ? m[0] : b == null ? m[1] : m[0] + m[1]) + " is not in the vocab");
            }
            left[r] = a;
            right[r] = b;
            result[r] = ab;
        }
        return new TokenizerModel(kinds, offsets, blob.toByteArray(), new LinkedHashMap<>(d.added), byteToId, left, right, result);
    }

    /** The ByteLevel decoder's bytes for a token: its byte symbols if all chars are byte symbols, else its UTF-8. */
    private static byte[] decoderBytes(String token) {
        byte[] b = ByteLevel.tokenBytes(token);
        return b != null ? b : token.getBytes(StandardCharsets.UTF_8);
    }

    /** Vocab lookup by token string (built on demand: encoding never needs it). */
    Map<String, Integer> vocabIndex() {
        Map<String, Integer> m = new HashMap<>(kinds.length * 2);
        for (int id = 0; id < kinds.length; id++) if (kinds[id] == VOCAB) m.put(token(id), id);
        return m;
    }

    /** Writes the compact form (see {@link #read}); ints little-endian, so reading needs no byte swapping on x86 or ARM. */
    void write(OutputStream os) throws IOException {
        List<byte[]> addedBytes = new ArrayList<>();
        int size = 16 + kinds.length + 4 * offsets.length + blob.length + 4 * 256 + 12 * mergeLeft.length + 8;
        for (String content : added.keySet()) {
            byte[] b = content.getBytes(StandardCharsets.UTF_8);
            addedBytes.add(b);
            size += 8 + b.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC).putInt(FORMAT).putInt(kinds.length).put(kinds);
        for (int o : offsets) out.putInt(o);
        out.putInt(blob.length).put(blob);
        out.putInt(added.size());
        int i = 0;
        for (int id : added.values()) {
            byte[] b = addedBytes.get(i++);
            out.putInt(id).putInt(b.length).put(b);
        }
        for (int b = 0; b < 256; b++) out.putInt(byteToId[b]);
        out.putInt(mergeLeft.length);
        for (int[] column : new int[][] {mergeLeft, mergeRight, mergeResult}) for (int v : column) out.putInt(v);
        os.write(out.array(), 0, out.position());
        os.flush();
    }

    /** Reads the compact form: kinds, offsets, decoder-bytes blob, added tokens, byte table, merge columns. */
    static TokenizerModel read(InputStream is, String source) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(is.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (in.getInt() != MAGIC || in.getInt() != FORMAT) {
                throw new TokenizerException(source + ": not a compiled tokenizer of format " + FORMAT);
            }
            int n = in.getInt();
            byte[] kinds = new byte[n];
            in.get(kinds);
            int[] offsets = ints(in, n + 1);
            byte[] blob = new byte[in.getInt()];
            in.get(blob);
            int addedCount = in.getInt();
            Map<String, Integer> added = new LinkedHashMap<>();
            for (int i = 0; i < addedCount; i++) {
                int id = in.getInt();
                byte[] b = new byte[in.getInt()];
                in.get(b);
                added.put(new String(b, StandardCharsets.UTF_8), id);
            }
            int[] byteToId = ints(in, 256);
            int m = in.getInt();
            int[] left = ints(in, m);
            int[] right = ints(in, m);
            int[] result = ints(in, m);
            if (in.hasRemaining()) throw new TokenizerException(source + ": trailing bytes in compiled tokenizer");
            return new TokenizerModel(kinds, offsets, blob, added, byteToId, left, right, result);
        } catch (java.nio.BufferUnderflowException e) {
            throw new TokenizerException(source + ": truncated compiled tokenizer", e);
        }
    }

    byte[] toBytes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4 << 20);
        write(out);
        return out.toByteArray();
    }

    private static int[] ints(ByteBuffer in, int n) {
        int[] a = new int[n];
        in.asIntBuffer().get(a); // the view inherits the buffer's little-endian order
        in.position(in.position() + 4 * n);
        return a;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TokenizerModel)) return false;
        TokenizerModel m = (TokenizerModel) o;
        return Arrays.equals(kinds, m.kinds) && Arrays.equals(offsets, m.offsets) && Arrays.equals(blob, m.blob)
                && added.equals(m.added) && Arrays.equals(byteToId, m.byteToId) && Arrays.equals(mergeLeft, m.mergeLeft)
                && Arrays.equals(mergeRight, m.mergeRight) && Arrays.equals(mergeResult, m.mergeResult);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(offsets);
    }
}
