package dev.dsv32.tokenizer;

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
 * reference for any text, on any JDK (character classes are Unicode 16.0.0 data carried in the jar).
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
    /** {@code tokenizer.json} precompiled by the build ({@link TokenizerCompiler}); same content, fast to load. */
    private static final String BUNDLED_COMPILED = "tokenizer.bin";

    private final TokenizerModel model;
    private volatile Map<String, Integer> vocab;
    private final Map<String, Integer> added;
    private final AddedTokens addedTokens;
    private final BytePairEncoder bpe;

    private Tokenizer(TokenizerModel m) {
        this.model = m;
        this.added = Map.copyOf(m.added);
        this.addedTokens = new AddedTokens(m.added);
        this.bpe = new BytePairEncoder(m.byteToId, m.mergeLeft, m.mergeRight, m.mergeResult);
    }

    private static final class Bundled {
        static final Tokenizer INSTANCE = loadBundled();
    }

    /** The bundled DeepSeek-V3.2 tokenizer (loaded on first use, then shared). */
    public static Tokenizer v32() {
        return Bundled.INSTANCE;
    }

    /** A new instance of the bundled tokenizer (not the shared one): for measuring load time or isolating caches. */
    public static Tokenizer readBundled() {
        return loadBundled();
    }

    /** As {@link #readBundled()}, parsing the bundled {@code tokenizer.json} instead of its compiled form (slower). */
    public static Tokenizer readBundledJson() {
        return loadBundledJson();
    }

    private static Tokenizer loadBundled() {
        try (InputStream bin = Tokenizer.class.getResourceAsStream(BUNDLED_COMPILED)) {
            if (bin != null) return new Tokenizer(TokenizerModel.read(bin, "bundled " + BUNDLED_COMPILED));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return loadBundledJson();
    }

    /** The bundled tokenizer read from its {@code tokenizer.json} (slower; the compiled form is preferred). */
    static Tokenizer loadBundledJson() {
        try (InputStream in = Tokenizer.class.getResourceAsStream(BUNDLED)) {
            if (in == null) throw new TokenizerException("the bundled dev/dsv32/tokenizer/" + BUNDLED + " is missing from the classpath");
            return new Tokenizer(TokenizerModel.fromJson(TokenizerLoader.read(in, "bundled " + BUNDLED), "bundled " + BUNDLED));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads a {@code tokenizer.json} of the DeepSeek-V3 family (same pre-tokenizer; vocab, merges and added tokens may differ). */
    public static Tokenizer load(Path tokenizerJson) {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        try (InputStream in = Files.newInputStream(tokenizerJson)) {
            return new Tokenizer(TokenizerModel.fromJson(TokenizerLoader.read(in, tokenizerJson.toString()), tokenizerJson.toString()));
        } catch (IOException e) {
            throw new TokenizerException(tokenizerJson + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Number of ids (vocab plus added tokens): valid ids are 0 to {@code size() - 1}. */
    public int size() {
        return model.size();
    }

    /** The token string of an id (byte-level form for vocab tokens), or null if the id is unused. */
    public String token(int id) {
        return id >= 0 && id < model.size() ? model.token(id) : null;
    }

    /** The id of a token string (vocab or added token). */
    public OptionalInt id(String token) {
        Integer id = added.get(token);
        if (id == null) {
            Map<String, Integer> v = vocab;
            if (v == null) vocab = v = model.vocabIndex();
            id = v.get(token);
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Whether the id is a special added token (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < model.size() && model.isSpecial(id);
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
        int total = 0;
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i], i);
            total += model.offsets[ids[i] + 1] - model.offsets[ids[i]];
        }
        byte[] bytes = new byte[total];
        int n = 0;
        for (int id : ids) {
            if (skipSpecialTokens && model.isSpecial(id)) continue;
            int len = model.offsets[id + 1] - model.offsets[id];
            System.arraycopy(model.blob, model.offsets[id], bytes, n, len);
            n += len;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    /** A decoder for ids arriving one at a time that only returns complete characters. Not thread-safe. */
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this, false);
    }

    /** As {@link #newStreamingDecoder()}, leaving out special tokens. */
    public StreamingDecoder newStreamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    void checkId(int id, int position) {
        if (id < 0 || id >= model.size() || model.kinds[id] == TokenizerModel.NONE) {
            throw new IllegalArgumentException("token id " + id + " at position " + position + " is not in the vocabulary (0.."
                    + (model.size() - 1) + ")");
        }
    }

    TokenizerModel model() {
        return model;
    }

    /** For tests: the BPE of raw bytes, bypassing the pre-tokenizer and the cache. */
    int[] bpeOfBytes(byte[] bytes) {
        return bpe.bpe(Arrays.copyOf(bytes, bytes.length));
    }
}
