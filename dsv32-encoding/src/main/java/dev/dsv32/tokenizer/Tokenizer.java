package dev.dsv32.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The exact DeepSeek-V3.2 tokenizer (byte-level BPE, tokenizer.md) in pure Java: same ids as the Hugging Face
 * reference for any text, on any JDK (character classes are Unicode 14.0.0 data carried in the jar).
 *
 * <p>{@link #encode} adds no BOS: chat prompts carry {@code <｜begin▁of▁sentence｜>} in their text (the chat encoder
 * writes it), and every added token in the text (special or not) becomes its id. Immutable and thread-safe; load it
 * once ({@link #v32()} caches the bundled one) and share it.
 *
 * <pre>{@code
 * Tokenizer tok = Tokenizer.v32();
 * int[] ids = tok.encode(prompt);
 * String text = tok.decode(ids);
 * }</pre>
 */
public final class Tokenizer {
    /** Id of {@code <｜begin▁of▁sentence｜>}. */
    public static final int BOS_ID = 0;
    /** Id of {@code <｜end▁of▁sentence｜>}. */
    public static final int EOS_ID = 1;

    private static final String BUNDLED = "tokenizer.json";

    private final String[] idToToken;
    private final byte[][] idToBytes;
    private final boolean[] special;
    private final Map<String, Integer> vocab;
    private final Map<String, Integer> added;
    private final AddedTokens addedTokens;
    private final BytePairEncoder bpe;

    private Tokenizer(TokenizerLoader.Data d, String source) {
        int maxId = -1;
        for (int id : d.vocab.values()) maxId = Math.max(maxId, id);
        for (int id : d.added.values()) maxId = Math.max(maxId, id);
        idToToken = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : d.vocab.entrySet()) {
            if (e.getValue() < 0) throw new TokenizerException(source + ": model.vocab[" + e.getKey() + "]: negative id");
            idToToken[e.getValue()] = e.getKey();
        }
        special = new boolean[maxId + 1];
        for (Map.Entry<String, Integer> e : d.added.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
            special[e.getValue()] = Boolean.TRUE.equals(d.addedSpecial.get(e.getValue()));
        }
        // ByteLevel decoder: a token whose chars are all byte symbols stands for those bytes, any other for its UTF-8.
        idToBytes = new byte[maxId + 1][];
        for (int id = 0; id <= maxId; id++) {
            String t = idToToken[id];
            if (t == null) continue;
            byte[] b = ByteLevel.tokenBytes(t);
            idToBytes[id] = b != null ? b : t.getBytes(StandardCharsets.UTF_8);
        }
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
        this.vocab = d.vocab;
        this.added = Map.copyOf(d.added);
        this.addedTokens = new AddedTokens(d.added);
        this.bpe = new BytePairEncoder(byteToId, left, right, result);
    }

    private static final class Bundled {
        static final Tokenizer INSTANCE = loadBundled();
    }

    /** The bundled DeepSeek-V3.2 tokenizer (loaded on first use, then shared). */
    public static Tokenizer v32() {
        return Bundled.INSTANCE;
    }

    private static Tokenizer loadBundled() {
        try (InputStream in = Tokenizer.class.getResourceAsStream(BUNDLED)) {
            if (in == null) throw new TokenizerException("the bundled dev/dsv32/tokenizer/" + BUNDLED + " is missing from the classpath");
            return new Tokenizer(TokenizerLoader.read(in, "bundled " + BUNDLED), "bundled " + BUNDLED);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads a {@code tokenizer.json} of the DeepSeek-V3 family (same pre-tokenizer; vocab, merges and added tokens may differ). */
    public static Tokenizer load(Path tokenizerJson) {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        try (InputStream in = Files.newInputStream(tokenizerJson)) {
            return new Tokenizer(TokenizerLoader.read(in, tokenizerJson.toString()), tokenizerJson.toString());
        } catch (IOException e) {
            throw new TokenizerException(tokenizerJson + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Number of ids (vocab plus added tokens): valid ids are 0 to {@code size() - 1}. */
    public int size() {
        return idToToken.length;
    }

    /** The token string of an id (byte-level form for vocab tokens), or null if the id is unused. */
    public String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    /** The id of a token string (vocab or added token). */
    public OptionalInt id(String token) {
        Integer id = added.get(token);
        if (id == null) id = vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Whether the id is a special added token (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** Token ids of the text; no BOS is added. Added tokens inside the text become their ids. */
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        IntList out = new IntList(Math.max(16, text.length() / 3));
        int end = text.length();
        int segment = 0;
        int i = addedTokens.nextCandidate(text, 0, end);
        PreTokenizer.Sink sink = (s, e) -> bpe.encode(text, s, e, out);
        while (i < end) {
            long m = addedTokens.matchAt(text, i, end);
            if (m >= 0) {
                if (segment < i) PreTokenizer.split(text, segment, i, sink);
                out.add((int) m);
                segment = i + (int) (m >>> 32);
                i = addedTokens.nextCandidate(text, segment, end);
            } else {
                i = addedTokens.nextCandidate(text, i + 1, end);
            }
        }
        if (segment < end) PreTokenizer.split(text, segment, end, sink);
        return out.toArray();
    }

    /** Number of tokens of the text (same as {@code encode(text).length}). */
    public int count(String text) {
        return encode(text).length;
    }

    /** The text of the ids, exactly ({@code decode(encode(s)).equals(s)} for valid strings). */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * The text of the ids: bytes of each token, decoded as UTF-8 with U+FFFD for invalid sequences (as the reference).
     * With {@code skipSpecialTokens}, special added tokens (BOS, EOS, padding, placeholders) are left out.
     *
     * @throws IllegalArgumentException for an id outside the vocabulary, naming its position
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        Objects.requireNonNull(ids, "ids");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int i = 0; i < ids.length; i++) {
            byte[] b = bytesOf(ids[i], i);
            if (skipSpecialTokens && special[ids[i]]) continue;
            bytes.write(b, 0, b.length);
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    /** A decoder for ids arriving one at a time that only returns complete characters. Not thread-safe. */
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this, false);
    }

    /** As {@link #newStreamingDecoder()}, leaving out special tokens. */
    public StreamingDecoder newStreamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    byte[] bytesOf(int id, int position) {
        if (id < 0 || id >= idToBytes.length || idToBytes[id] == null) {
            throw new IllegalArgumentException("token id " + id + " at position " + position + " is not in the vocabulary (0.."
                    + (idToBytes.length - 1) + ")");
        }
        return idToBytes[id];
    }

    /** For tests: the BPE of raw bytes, bypassing the pre-tokenizer and the cache. */
    int[] bpeOfBytes(byte[] bytes) {
        return bpe.bpe(Arrays.copyOf(bytes, bytes.length));
    }
}
