package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzz target (RELIABILITY.md): the safetensors and config.json loader, through the Java API, in this JVM, so a native
 * crash kills the test run. The golden {@code tiny} checkpoint is mutated (header JSON: dtype lies, shapes, offsets,
 * names; header bytes; the length prefix; truncation; data bytes; config.json fields) and opened. Each open either
 * fails with a {@link NativeException} whose message says what is wrong, or opens a model that then runs a forward
 * step and closes. Tries: {@code jqwik.tries.default} (each is one open of a 2.7 MB checkpoint).
 */
class CheckpointFuzzProperties {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] DTYPES = {"F32", "BF16", "F16", "F8_E4M3", "F64", "I8", "U8", "BOOL", "", "f32"};

    private static byte[] file;
    private static int headerLength;
    private static ObjectNode header;
    private static ObjectNode config;
    private static List<String> names;
    private static Path dir;
    static long opened;
    static long rejected;

    @BeforeContainer
    static void load() throws IOException {
        Path tiny = NativeModelTest.TINY;
        file = Files.readAllBytes(tiny.resolve("model.safetensors"));
        headerLength = (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        header = (ObjectNode) JSON.readTree(new String(file, 8, headerLength, StandardCharsets.UTF_8));
        config = (ObjectNode) JSON.readTree(tiny.resolve("config.json").toFile());
        names = new ArrayList<>();
        header.fieldNames().forEachRemaining(n -> {
            if (!n.equals("__metadata__")) names.add(n);
        });
        dir = Files.createTempDirectory("dsv32-ckpt-fuzz");
    }

    @AfterContainer
    static void cleanUp() throws IOException {
        System.out.println("CheckpointFuzzProperties: " + opened + " mutated checkpoints opened and run, " + rejected + " rejected");
        for (String f : new String[] {"model.safetensors", "config.json"}) Files.deleteIfExists(dir.resolve(f));
        Files.deleteIfExists(dir);
    }

    @Provide
    Arbitrary<Long> seeds() {
        return Arbitraries.longs();
    }

    private static byte[] data() {
        return Arrays.copyOfRange(file, 8 + headerLength, file.length);
    }

    /** A safetensors file: the length prefix, {@code headerJson} (padded with spaces to 8 bytes), {@code data}. */
    static byte[] assemble(byte[] headerJson, byte[] data) {
        int padded = (headerJson.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(headerJson);
        for (int i = headerJson.length; i < padded; i++) out.put((byte) ' ');
        return out.put(data).array();
    }

    private static JsonNode weirdNumber(Random r) {
        switch (r.nextInt(10)) {
            case 0: return F.numberNode(-1);
            case 1: return F.numberNode(0);
            case 2: return F.numberNode(1.5);
            case 3: return F.numberNode(1e12);
            case 4: return F.numberNode(Long.MAX_VALUE);
            case 5: return F.numberNode(new java.math.BigInteger("184467440737095516160"));
            case 6: return F.textNode("7");
            case 7: return F.nullNode();
            case 8: return F.numberNode(1e308);
            default: return F.numberNode(r.nextInt(1 << 20));
        }
    }

    /** One structural change to a copy of the header JSON. */
    static ObjectNode mutateHeader(Random r) {
        ObjectNode h = header.deepCopy();
        String name = names.get(r.nextInt(names.size()));
        // A second mutation may find the entry already broken: then it adds a stray entry instead.
        if (!(h.get(name) instanceof ObjectNode t) || !(t.get("shape") instanceof ArrayNode shape)
                || !(t.get("data_offsets") instanceof ArrayNode off)) {
            h.put(name + ".stray", r.nextInt(100));
            return h;
        }
        switch (r.nextInt(12)) {
            case 0 -> t.put("dtype", DTYPES[r.nextInt(DTYPES.length)]); // dtype lie
            case 1 -> { // dtype lie with a shape that keeps the byte count (the size check passes)
                String d = t.get("dtype").asText();
                if (d.equals("F32")) t.put("dtype", "BF16");
                else if (d.equals("BF16")) t.put("dtype", "F16");
                else t.put("dtype", "F32");
                long bytes = off.get(1).asLong() - off.get(0).asLong();
                int size = t.get("dtype").asText().equals("F32") ? 4 : 2;
                shape.removeAll();
                if (bytes % size == 0) shape.add(bytes / size);
            }
            case 2 -> { if (shape.size() > 0) shape.set(r.nextInt(shape.size()), weirdNumber(r)); }
            case 3 -> { if (shape.size() > 0) shape.set(r.nextInt(shape.size()), F.numberNode(shape.get(0).asLong() + (r.nextBoolean() ? 1 : -1))); }
            case 4 -> { // reshape keeping the element count (transpose-like lie)
                if (shape.size() == 2) {
                    long a = shape.get(0).asLong(), b = shape.get(1).asLong();
                    shape.removeAll();
                    shape.add(b).add(a);
                    if (r.nextBoolean()) { shape.removeAll(); shape.add(a * b); }
                }
            }
            case 5 -> off.set(r.nextInt(2), weirdNumber(r));
            case 6 -> { // shift the window (overlaps a neighbour or runs past the end)
                long d = (r.nextBoolean() ? 1 : -1) * (1 + r.nextInt(4096));
                off.set(0, F.numberNode(off.get(0).asLong() + d));
                off.set(1, F.numberNode(off.get(1).asLong() + d));
            }
            case 7 -> { off.removeAll(); if (r.nextBoolean()) off.add(0); }
            case 8 -> h.remove(name);
            case 9 -> h.set(name + (r.nextBoolean() ? "" : ".x"), r.nextBoolean() ? F.textNode("x") : F.arrayNode());
            case 10 -> { t.remove(new String[] {"dtype", "shape", "data_offsets"}[r.nextInt(3)]); }
            default -> { // the same data under a second name, or a tensor of another's name
                String other = names.get(r.nextInt(names.size()));
                h.set(other, t.deepCopy());
            }
        }
        return h;
    }

    /** One change to config.json: a field removed, or set to an odd value. */
    static ObjectNode mutateConfig(Random r) {
        ObjectNode c = config.deepCopy();
        List<String> fields = new ArrayList<>();
        c.fieldNames().forEachRemaining(fields::add);
        String f = fields.get(r.nextInt(fields.size()));
        if (r.nextInt(6) == 0) c.remove(f);
        else if (c.get(f).isObject() && r.nextBoolean()) {
            ObjectNode inner = (ObjectNode) c.get(f);
            List<String> in = new ArrayList<>();
            inner.fieldNames().forEachRemaining(in::add);
            if (!in.isEmpty()) inner.set(in.get(r.nextInt(in.size())), weirdNumber(r));
        } else {
            int base = c.get(f).asInt(64);
            JsonNode[] odd = {weirdNumber(r), F.numberNode(base * 2), F.numberNode(base + 1), F.numberNode(Math.max(0, base - 1)),
                F.numberNode(1 << 30), F.booleanNode(true), F.textNode("yarn"), F.arrayNode(), F.objectNode()};
            c.set(f, odd[r.nextInt(odd.length)]);
        }
        return c;
    }

    private static void write(byte[] safetensors, ObjectNode cfg) {
        try {
            Files.write(dir.resolve("model.safetensors"), safetensors);
            Files.write(dir.resolve("config.json"), JSON.writeValueAsBytes(cfg));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens the checkpoint in {@code dir}; if it opens, runs a prefill and a decode step. Fails on anything unclear. */
    static void openOrFailClearly(Path dir, int maxSeqLen, String what) {
        NativeOptions o = NativeOptions.defaults().withNumerics(Numerics.F32).withMaxSeqLen(maxSeqLen).withThreads(1).withMaxSequences(2);
        NativeModel m;
        try {
            m = NativeModel.open(dir, o);
        } catch (NativeException e) {
            assertNotNull(e.getMessage(), what);
            assertFalse(e.getMessage().isBlank(), what);
            assertFalse(e.status() == NativeException.Status.INTERNAL, "an internal error for " + what + ": " + e.getMessage());
            rejected++;
            return;
        } catch (RuntimeException e) {
            fail("unclear exception for " + what, e);
            return;
        }
        try (m; NativeSequence s = m.openSequence()) {
            int vocab = m.info().vocabSize();
            float[] logits = s.forward(1, 2, 3, vocab - 1);
            assertEquals(4L * vocab, logits.length, what);
            s.forward(5);
            opened++;
        } catch (NativeException e) { // a model that opens may still refuse a step (capacity): clearly
            assertFalse(e.getMessage().isBlank(), what);
            opened++;
        }
    }

    @Property
    void mutatedHeadersAreRejectedOrLoad(@ForAll("seeds") long seed) throws IOException {
        Random r = new Random(seed);
        ObjectNode h = mutateHeader(r);
        if (r.nextInt(4) == 0) h = mutateHeaderAgain(h, r);
        write(assemble(JSON.writeValueAsBytes(h), data()), config);
        openOrFailClearly(dir, 64, "header mutation seed " + seed);
    }

    private static ObjectNode mutateHeaderAgain(ObjectNode h, Random r) {
        ObjectNode saved = header;
        header = h;
        try {
            return mutateHeader(r);
        } finally {
            header = saved;
        }
    }

    @Property
    void flippedHeaderBytesAndLengthPrefixes(@ForAll("seeds") long seed) {
        Random r = new Random(seed);
        byte[] f = file.clone();
        if (r.nextInt(3) == 0) { // the length prefix
            long[] odd = {0, 1, 7, headerLength - 1, headerLength + 1, f.length - 8, f.length - 7, f.length, Long.MAX_VALUE, -1, 1L << 32};
            ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, odd[r.nextInt(odd.length)]);
        } else {
            int flips = 1 + r.nextInt(8);
            for (int i = 0; i < flips; i++) {
                int at = 8 + r.nextInt(headerLength);
                f[at] = r.nextBoolean() ? (byte) r.nextInt(256) : (byte) "{}[]\",:0123456789-.eE \\u".charAt(r.nextInt(24));
            }
        }
        write(f, config);
        openOrFailClearly(dir, 64, "byte mutation seed " + seed);
    }

    @Property
    void truncatedAndExtendedFiles(@ForAll("seeds") long seed) {
        Random r = new Random(seed);
        int cut = r.nextInt(4) == 0 ? r.nextInt(16 + headerLength) : r.nextInt(file.length + 1);
        byte[] f = r.nextInt(8) == 0 ? Arrays.copyOf(file, file.length + 1 + r.nextInt(100)) : Arrays.copyOf(file, cut);
        write(f, config);
        openOrFailClearly(dir, 64, "truncation at " + cut + " (seed " + seed + ")");
    }

    /** Random bytes in the data section (NaN and inf scales, odd FP8 codes): loads and runs, or fails clearly. */
    @Property
    void corruptedTensorData(@ForAll("seeds") long seed) {
        Random r = new Random(seed);
        byte[] f = file.clone();
        int n = 1 + r.nextInt(64);
        for (int i = 0; i < n; i++) f[8 + headerLength + r.nextInt(file.length - 8 - headerLength)] = (byte) r.nextInt(256);
        if (r.nextBoolean()) { // a whole f32 tensor of NaN or inf
            JsonNode t = header.get(names.get(r.nextInt(names.size())));
            if (t.get("dtype").asText().equals("F32")) {
                int b = 8 + headerLength + t.get("data_offsets").get(0).asInt(), e = 8 + headerLength + t.get("data_offsets").get(1).asInt();
                float v = r.nextBoolean() ? Float.NaN : Float.POSITIVE_INFINITY;
                ByteBuffer bb = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = b; i + 4 <= e; i += 4) bb.putFloat(i, v);
            }
        }
        write(f, config);
        openOrFailClearly(dir, 64, "data corruption seed " + seed);
    }

    @Property
    void mutatedConfigs(@ForAll("seeds") long seed, @ForAll boolean configLength) {
        Random r = new Random(seed);
        ObjectNode c = mutateConfig(r);
        write(file, c);
        openOrFailClearly(dir, configLength ? 0 : 64, "config mutation seed " + seed + ": " + c);
    }

    /** Regression inputs: mutations that these targets (and the checks they prove) must keep rejecting. */
    @Example
    void regressionInputs() throws IOException {
        ObjectNode h = header.deepCopy();
        ((ObjectNode) h.get(names.get(0))).putArray("data_offsets").add(0).add(new java.math.BigInteger("18446744073709551616"));
        write(assemble(JSON.writeValueAsBytes(h), data()), config);
        openOrFailClearly(dir, 64, "offset 2^64");
        byte[] deep = ("{" + "\"a\":[".repeat(100000)).getBytes(StandardCharsets.UTF_8); // nesting past any stack
        write(assemble(deep, data()), config);
        openOrFailClearly(dir, 64, "deep nesting");
        ObjectNode c = config.deepCopy().put("max_position_embeddings", 1_000_000_000);
        write(file, c);
        openOrFailClearly(dir, 0, "max_position_embeddings 1e9, cache length from the config");
    }
}
