package dev.dsv32.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code tokenizer.json} with a streaming parser (no tree for the 128K vocab and merges) and
 * checks that it is the DeepSeek-V3 family's byte-level BPE with the pre-tokenizer {@link PreTokenizer} implements.
 */
final class TokenizerLoader {
    private TokenizerLoader() {}

    // The vocab's 128K keys are read as field names: canonicalizing and interning them would dominate load time.
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();
    private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);

    /** The V3.2 pre-tokenizer's third regex, as it appears in tokenizer.json. */
    static final String WORD_REGEX = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
            + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

    static final class Data {
        final Map<String, Integer> vocab = new HashMap<>(1 << 18);
        final Map<String, Integer> added = new LinkedHashMap<>();
        final Map<Integer, Boolean> addedSpecial = new HashMap<>();
        final List<String[]> merges = new ArrayList<>(1 << 17);
    }

    static Data read(InputStream in, String source) {
        Data d = new Data();
        try (JsonParser p = FACTORY.createParser(in)) {
            expect(p.nextToken(), JsonToken.START_OBJECT, source, "top level");
            boolean sawModel = false;
            boolean sawPreTokenizer = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "added_tokens":
                        readAddedTokens(p, d, source);
                        break;
                    case "model":
                        readModel(p, d, source);
                        sawModel = true;
                        break;
                    case "pre_tokenizer":
                        checkPreTokenizer(MAPPER.readTree(p), source);
                        sawPreTokenizer = true;
                        break;
                    case "normalizer": {
                        JsonNode n = MAPPER.readTree(p);
                        boolean identity = n == null || n.isNull()
                                || ("Sequence".equals(n.path("type").asText()) && n.path("normalizers").size() == 0);
                        if (!identity) throw new TokenizerException(source + ": normalizer: only an empty normalizer is supported, found " + n);
                        break;
                    }
                    default:
                        p.skipChildren();
                }
            }
            if (!sawModel) throw new TokenizerException(source + ": no \"model\"");
            if (!sawPreTokenizer) throw new TokenizerException(source + ": no \"pre_tokenizer\"");
        } catch (IOException e) {
            throw new TokenizerException(source + ": not valid JSON: " + e.getMessage(), e);
        }
        return d;
    }

    private static void expect(JsonToken actual, JsonToken expected, String source, String where) {
        if (actual != expected) throw new TokenizerException(source + ": " + where + ": expected " + expected + ", found " + actual);
    }

    private static void readAddedTokens(JsonParser p, Data d, String source) throws IOException {
        expect(p.currentToken(), JsonToken.START_ARRAY, source, "added_tokens");
        int i = 0;
        while (p.nextToken() == JsonToken.START_OBJECT) {
            JsonNode t = MAPPER.readTree(p);
            if (!t.path("id").isInt() || !t.path("content").isTextual()) {
                throw new TokenizerException(source + ": added_tokens[" + i + "]: needs an integer \"id\" and a string \"content\"");
            }
            if (t.path("lstrip").asBoolean(false) || t.path("rstrip").asBoolean(false) || t.path("single_word").asBoolean(false)) {
                throw new TokenizerException(source + ": added_tokens[" + i + "]: lstrip/rstrip/single_word are not supported");
            }
            d.added.put(t.get("content").textValue(), t.get("id").intValue());
            d.addedSpecial.put(t.get("id").intValue(), t.path("special").asBoolean(false));
            i++;
        }
    }

    private static void readModel(JsonParser p, Data d, String source) throws IOException {
        expect(p.currentToken(), JsonToken.START_OBJECT, source, "model");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            switch (field) {
                case "type":
                    if (!"BPE".equals(p.getText())) throw new TokenizerException(source + ": model.type: expected BPE, found " + p.getText());
                    break;
                case "vocab":
                    expect(t, JsonToken.START_OBJECT, source, "model.vocab");
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String token = p.currentName();
                        if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                            throw new TokenizerException(source + ": model.vocab[" + token + "]: expected an integer id");
                        }
                        d.vocab.put(token, p.getIntValue());
                    }
                    break;
                case "merges":
                    expect(t, JsonToken.START_ARRAY, source, "model.merges");
                    for (JsonToken m = p.nextToken(); m != JsonToken.END_ARRAY; m = p.nextToken()) {
                        int r = d.merges.size();
                        if (m == JsonToken.VALUE_STRING) {
                            String s = p.getText();
                            int sp = s.indexOf(' ', 1);
                            if (sp < 0) throw new TokenizerException(source + ": model.merges[" + r + "]: expected \"a b\", found \"" + s + "\"");
                            d.merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
                        } else if (m == JsonToken.START_ARRAY) {
                            p.nextToken();
                            String a = p.getText();
                            p.nextToken();
                            String b = p.getText();
                            if (p.nextToken() != JsonToken.END_ARRAY) {
                                throw new TokenizerException(source + ": model.merges[" + r + "]: expected a pair of strings");
                            }
                            d.merges.add(new String[] {a, b});
                        } else {
                            throw new TokenizerException(source + ": model.merges[" + r + "]: expected a string or a pair");
                        }
                    }
                    break;
                case "byte_fallback":
                case "fuse_unk":
                case "ignore_merges":
                    if (t == JsonToken.VALUE_TRUE) throw new TokenizerException(source + ": model." + field + "=true is not supported");
                    break;
                case "dropout":
                case "continuing_subword_prefix":
                case "end_of_word_suffix":
                    if (t != JsonToken.VALUE_NULL) throw new TokenizerException(source + ": model." + field + " must be null");
                    break;
                default:
                    p.skipChildren();
            }
        }
    }

    /** Accepts exactly the DeepSeek-V3 pre-tokenizer sequence (digits, CJK, words regex, ByteLevel without regex). */
    private static void checkPreTokenizer(JsonNode n, String source) {
        JsonNode steps = n.path("pretokenizers");
        boolean ok = "Sequence".equals(n.path("type").asText()) && steps.size() == 4
                && isSplit(steps.get(0), "\\p{N}{1,3}")
                && isSplit(steps.get(1), "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+")
                && isSplit(steps.get(2), WORD_REGEX)
                && "ByteLevel".equals(steps.get(3).path("type").asText())
                && !steps.get(3).path("add_prefix_space").asBoolean(true)
                && !steps.get(3).path("use_regex").asBoolean(true);
        if (!ok) {
            throw new TokenizerException(source + ": pre_tokenizer: not the DeepSeek-V3/V3.2 pre-tokenizer this implementation"
                    + " reproduces (found " + n + ")");
        }
    }

    private static boolean isSplit(JsonNode step, String regex) {
        return "Split".equals(step.path("type").asText()) && regex.equals(step.path("pattern").path("Regex").asText())
                && "Isolated".equals(step.path("behavior").asText()) && !step.path("invert").asBoolean(false);
    }
}
