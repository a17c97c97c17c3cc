package dev.dsv32.nativ.synth;

import dev.dsv32.nativ.LoadProgressListener;
import dev.dsv32.nativ.synth.SynthConfig.DType;
import dev.dsv32.nativ.synth.SynthConfig.Kind;
import dev.dsv32.nativ.synth.SynthConfig.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Writes a synthetic DeepSeek-V3.2 checkpoint in Hugging Face format (architecture.md §16.2): {@code config.json} and
 * one {@code model.safetensors} with HF tensor names, FP8 e4m3 projections with f32 128×128-block
 * {@code weight_scale_inv}, bf16 embedding/head/gate/{@code weights_proj}, f32 norms and
 * {@code e_score_correction_bias}.
 *
 * <p>Deterministic: every tensor has its own {@link Rng} stream seeded from (seed, name), so the bytes depend only on
 * the config and the seed (not on thread scheduling or the JDK). Streaming: the header is computed from the tensor list
 * first, then each tensor is generated on its own and written at its offset (at most one FP8 projection, or 1 M
 * elements of a bf16 matrix, per worker in memory), so the 1 GB {@code mini} needs little heap.
 *
 * <p>File layout: an 8-byte little-endian header length, the JSON header ({@code __metadata__ = {"format": "pt"}}
 * then the tensors in data order, padded with spaces to a multiple of 8), then the data: f32 tensors, then bf16, then
 * e4m3, each group by name, so every tensor is aligned to its element size.
 */
public final class SyntheticCheckpoint {
    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    private static final int CHUNK = 1 << 20;

    private final SynthConfig config;
    private final long seed;
    private final List<Tensor> tensors;
    private final Map<String, Long> offsets = new LinkedHashMap<>();
    private final byte[] header;
    private final long dataBytes;

    public SyntheticCheckpoint(SynthConfig config, long seed) {
        this.config = Objects.requireNonNull(config, "config");
        this.seed = seed;
        this.tensors = config.tensors();
        List<Tensor> order = new ArrayList<>(tensors);
        order.sort(Comparator.comparingInt((Tensor t) -> -t.dtype().size).thenComparing(Tensor::name));
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        for (Tensor t : order) {
            offsets.put(t.name(), off);
            h.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(t.dtype().safetensorsName).append("\",\"shape\":[");
            for (int i = 0; i < t.shape().length; i++) h.append(i == 0 ? "" : ",").append(t.shape()[i]);
            h.append("],\"data_offsets\":[").append(off).append(',').append(off + t.bytes()).append("]}");
            off += t.bytes();
        }
        h.append('}');
        while ((8 + h.length()) % 8 != 0) h.append(' ');
        this.header = h.toString().getBytes(StandardCharsets.US_ASCII);
        this.dataBytes = off;
    }

    public SynthConfig config() {
        return config;
    }

    public long seed() {
        return seed;
    }

    /** The tensors, in the reference generator's order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    /** The safetensors header: 8-byte length, then the JSON. */
    public byte[] headerBytes() {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        return b.array();
    }

    /** The size of model.safetensors in bytes. */
    public long fileSize() {
        return 8L + header.length + dataBytes;
    }

    /** The byte offset of a tensor's data from the start of the file. */
    public long fileOffset(String tensorName) {
        Long off = offsets.get(tensorName);
        if (off == null) throw new IllegalArgumentException("no tensor " + tensorName);
        return 8L + header.length + off;
    }

    /**
     * Writes config.json and model.safetensors into {@code dir} (created if missing; existing files are replaced),
     * using {@code threads} workers (0 = one per core).
     */
    public void writeTo(Path dir, int threads) throws IOException {
        writeTo(dir, threads, null);
    }

    /**
     * {@link #writeTo(Path, int)}, reporting progress to {@code progress} (may be {@code null}) in one stage,
     * {@code "write"}, in bytes of model.safetensors: {@code total} is {@link #fileSize()}, {@code done} never
     * decreases (calls are serialised, possibly from the worker threads), the first call is after the header and the
     * last has {@code done == total}. About one call per tensor, or per 1 M elements of a large one. The bytes written
     * do not depend on it. A listener that throws fails the write.
     */
    public void writeTo(Path dir, int threads, LoadProgressListener progress) throws IOException {
        Files.createDirectories(dir);
        Progress p = new Progress(progress, fileSize());
        Files.writeString(dir.resolve(CONFIG_FILE), config.configJson(), StandardCharsets.UTF_8);
        Path file = dir.resolve(WEIGHTS_FILE);
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(headerBytes()), 0);
            p.add(8L + header.length);
            ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
                Thread t = new Thread(r, "dsv32-synth");
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<?>> jobs = new ArrayList<>();
                for (int i = 0; i < tensors.size(); i++) {
                    Tensor t = tensors.get(i);
                    if (t.kind() == Kind.FP8_SCALE) continue;
                    Tensor scale = t.kind() == Kind.FP8_WEIGHT ? tensors.get(i + 1) : null;
                    jobs.add(pool.submit(() -> {
                        write(ch, t, scale, p);
                        return null;
                    }));
                }
                for (Future<?> f : jobs) f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while writing " + file, e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof UncheckedIOException u) throw u.getCause();
                if (c instanceof IOException io) throw io;
                if (c instanceof RuntimeException r) throw r;
                throw new IOException("writing " + file + ": " + c, c);
            } finally {
                pool.shutdownNow();
            }
            if (ch.size() != fileSize()) throw new IOException(file + ": wrote " + ch.size() + " bytes, expected " + fileSize());
        }
    }

    private void write(FileChannel ch, Tensor t, Tensor scale, Progress p) throws IOException {
        Rng rng = Rng.forTensor(seed, t.name());
        long pos = fileOffset(t.name());
        if (t.kind() == Kind.FP8_WEIGHT) {
            writeFp8(ch, t, scale, rng, pos);
            p.add(t.bytes() + scale.bytes());
            return;
        }
        long total = t.elements();
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(total, CHUNK) * t.dtype().size).order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < total; ) {
            int k = (int) Math.min(total - done, CHUNK);
            buf.clear();
            for (int i = 0; i < k; i++) {
                float v = (float) (rng.nextGaussian() * t.std() + t.mean());
                if (t.dtype() == DType.F32) buf.putFloat(v);
                else buf.putShort(bf16(v));
            }
            buf.flip();
            writeFully(ch, buf, pos + done * t.dtype().size);
            done += k;
            p.add((long) k * t.dtype().size);
        }
    }

    /** Draws an [out, in] projection, quantises it per 128×128 block (§16.2) and writes weight and scales. */
    private void writeFp8(FileChannel ch, Tensor t, Tensor scaleTensor, Rng rng, long pos) throws IOException {
        int out = Math.toIntExact(t.shape()[0]), in = Math.toIntExact(t.shape()[1]);
        float[] w = new float[Math.multiplyExact(out, in)];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() * t.std());
        int bo = (int) SynthConfig.ceilDiv(out, SynthConfig.BLOCK), bi = (int) SynthConfig.ceilDiv(in, SynthConfig.BLOCK);
        float[] scale = new float[bo * bi];
        for (int r = 0; r < out; r++) {
            int rowBase = r * in, sBase = (r / SynthConfig.BLOCK) * bi;
            for (int c = 0; c < in; c++) {
                float a = Math.abs(w[rowBase + c]);
                int s = sBase + c / SynthConfig.BLOCK;
                if (a > scale[s]) scale[s] = a;
            }
        }
        for (int s = 0; s < scale.length; s++) scale[s] = Math.max(scale[s], 1e-4f) / E4m3.MAX;
        byte[] q = new byte[w.length];
        for (int r = 0; r < out; r++) {
            int rowBase = r * in, sBase = (r / SynthConfig.BLOCK) * bi;
            for (int c = 0; c < in; c++) {
                float v = w[rowBase + c] / scale[sBase + c / SynthConfig.BLOCK];
                q[rowBase + c] = E4m3.encode(Math.max(-E4m3.MAX, Math.min(E4m3.MAX, v)));
            }
        }
        writeFully(ch, ByteBuffer.wrap(q), pos);
        ByteBuffer sb = ByteBuffer.allocate(scale.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float s : scale) sb.putFloat(s);
        sb.flip();
        writeFully(ch, sb, fileOffset(scaleTensor.name()));
    }

    /**
     * The checkpoint of {@code config} and {@code seed} in the model cache, generated on first use:
     * {@code ${DSV32_CACHE:-~/.cache/dsv32}/models/<config>-seed<seed>}. See {@link #cached(SynthConfig, long, Path)}.
     */
    public static Path cached(SynthConfig config, long seed) throws IOException {
        return cached(config, seed, cacheRoot());
    }

    /** {@link #cached(SynthConfig, long)}, reporting the generation (if it happens) as {@link #writeTo(Path, int, LoadProgressListener)} does. */
    public static Path cached(SynthConfig config, long seed, LoadProgressListener progress) throws IOException {
        return cached(config, seed, cacheRoot(), progress);
    }

    /** The default tiny_chat checkpoint (seed 1), the SDK's default model, generated into the cache on first use. */
    public static Path defaultModel() throws IOException {
        return cached(SynthConfig.TINY_CHAT, 1);
    }

    /** {@code $DSV32_CACHE}, else {@code ~/.cache/dsv32}. */
    public static Path cacheRoot() {
        String env = System.getenv("DSV32_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "dsv32");
    }

    /**
     * The checkpoint of {@code config} and {@code seed} under {@code cacheRoot}/models, generated on first use. The
     * files are written into a private temporary directory next to it which is then renamed into place atomically, so
     * concurrent callers (threads or processes) each see either no checkpoint or a complete one; when two generate at
     * once, the first rename wins and the other's copy is deleted.
     */
    public static Path cached(SynthConfig config, long seed, Path cacheRoot) throws IOException {
        return cached(config, seed, cacheRoot, null);
    }

    /** {@link #cached(SynthConfig, long, Path)}, reporting the generation (if it happens) to {@code progress} (may be null). */
    public static Path cached(SynthConfig config, long seed, Path cacheRoot, LoadProgressListener progress) throws IOException {
        Path models = cacheRoot.resolve("models");
        Path dir = models.resolve(config.id + "-seed" + seed);
        if (isComplete(dir)) return dir;
        Files.createDirectories(models);
        Path tmp = Files.createTempDirectory(models, "." + config.id + "-seed" + seed + ".tmp-");
        try {
            new SyntheticCheckpoint(config, seed).writeTo(tmp, 0, progress);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + tmp + " to " + dir + " atomically", e);
            } catch (IOException e) {
                // another thread or process won the race (the target exists): use its copy
                if (!isComplete(dir)) throw new IOException("cannot rename " + tmp + " to " + dir + ": " + e, e);
            }
        } finally {
            deleteRecursively(tmp);
        }
        if (!isComplete(dir)) throw new IOException(dir + " is not a complete checkpoint; delete it");
        return dir;
    }

    private static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG_FILE)) && Files.isRegularFile(dir.resolve(WEIGHTS_FILE));
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(q);
        }
    }

    /** Bytes written so far, reported in order under a lock so that {@code done} never decreases. */
    private static final class Progress {
        private final LoadProgressListener listener;
        private final long total;
        private long done;

        Progress(LoadProgressListener listener, long total) {
            this.listener = listener;
            this.total = total;
        }

        synchronized void add(long bytes) {
            done += bytes;
            if (listener != null) listener.onProgress("write", done, total);
        }
    }

    /** float32 to bfloat16, round to nearest even (the values here are finite). */
    static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long offset) throws IOException {
        while (buf.hasRemaining()) offset += ch.write(buf, offset);
    }
}
