package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.nativ.BatchEntry;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.NativeSequence;
import dev.dsv32.nativ.Numerics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 bench}: CPU speed of the native engine on one checkpoint (by default the synthetic {@code mini},
 * generated into the model cache on first use), next to the machine's memory bandwidth and the decode roofline.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        subcommands = BenchReportCommand.class,
        versionProvider = VersionProvider.class,
        description = {
            "Measure the native engine: prefill tokens/s, decode tokens/s at batch 1 and 4 and several contexts, peak",
            "RSS, and the machine's memory bandwidth (STREAM-triad-like), with decode speed as a fraction of the",
            "bandwidth roofline (bytes a step must read: FP8 weights + scales, routed experts' share, bf16 head, KV)",
            "and every row's GFLOP/s (products over the active weights, attention and indexer scores); a decode row of",
            "batch B > 1 also gives its tokens/s over batch 1's at the same context (the batch scaling). A context's",
            "decode cells are timed together, their steps interleaved (one step of each batch size a round).",
            "Without --model the synthetic checkpoint of --config (default mini, 975 MB) is generated into",
            "${DSV32_CACHE:-~/.cache/dsv32}/models on first use. Steps compute the last position's logits only (as",
            "generation does; batch B decodes B sequences in one step). Prints a markdown table; --csv and --json write",
            "the same rows to files (JSON with the run's metadata). On a terminal, progress bars on stderr show the",
            "generation, the load and each phase. `dsv32 bench report` writes the full Markdown report with charts."
        })
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint directory (default: the synthetic --config model from the cache)")
    String model;

    @Option(names = "--config", paramLabel = "NAME", completionCandidates = MakeTinyCommand.ConfigCandidates.class,
            description = "Synthetic model when no --model: tiny, tiny_mp2, tiny_chat or mini (default: mini; tiny with --quick)")
    String config;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the synthetic model (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--numerics", paramLabel = "MODE", converter = LogitsCommand.NumericsConverter.class,
            completionCandidates = LogitsCommand.NumericsCandidates.class, description = "f32 or fp8 (default: the model's)")
    Numerics numerics;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Engine and bandwidth threads (default: all cores)")
    int threads;

    @Option(names = "--mp", paramLabel = "N", defaultValue = "1",
            description = "Model-parallel ranks (threads sharing the engine threads; default: ${DEFAULT-VALUE})")
    int mp;

    @Option(names = "--quick", description = "A reduced matrix for tests and CI (prefill 64/256, context 128, 8 decode steps, small bandwidth arrays)")
    boolean quick;

    @Option(names = "--prefill", split = ",", paramLabel = "N", description = "Prefill lengths (default: 512,2048)")
    int[] prefill;

    @Option(names = "--contexts", split = ",", paramLabel = "L", description = "Decode contexts (default: 1024,4096)")
    int[] contexts;

    @Option(names = "--batches", split = ",", paramLabel = "B", description = "Decode batch sizes (default: 1,4)")
    int[] batches;

    @Option(names = "--steps", paramLabel = "N", description = "Timed decode steps per cell (default: 32)")
    Integer steps;

    @Option(names = "--csv", paramLabel = "FILE",
            description = "Also write the table's rows as CSV (header line, plain decimal numbers; its directory must exist)")
    String csv;

    @Option(names = "--json", paramLabel = "FILE",
            description = "Also write the run's metadata and the table's rows as JSON (its directory must exist)")
    String json;

    @Spec
    CommandSpec spec;

    /** Timed prefills per length; the table shows the fastest. */
    static final int PREFILL_RUNS = 2;

    /** Prefill chunk used to build decode contexts. */
    private static final int CONTEXT_CHUNK = 512;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (threads < 0) throw new CliException("--threads " + threads + ": must be at least 0");
        if (mp < 1) throw new CliException("--mp " + mp + ": must be at least 1");
        int[] pre = prefill != null ? prefill : quick ? new int[] {64, 256} : new int[] {512, 2048};
        int[] ctxs = contexts != null ? contexts : quick ? new int[] {128} : new int[] {1024, 4096};
        int[] bs = batches != null ? batches : new int[] {1, 4};
        int nSteps = steps != null ? steps : quick ? 8 : 32;
        for (int[] a : List.of(pre, ctxs, bs)) for (int x : a) if (x < 1) throw new CliException("lengths, contexts and batches must be at least 1");
        if (nSteps < 1) throw new CliException("--steps " + nSteps + ": must be at least 1");
        Arrays.sort(ctxs);
        Path csvFile = csv == null ? null : outputFile("--csv", csv);
        Path jsonFile = json == null ? null : outputFile("--json", json);
        PrintWriter err = spec.commandLine().getErr();
        int cores = Runtime.getRuntime().availableProcessors();
        int nThreads = threads > 0 ? threads : cores;

        BenchModel bm = BenchModel.resolve(model, config, quick, seed, err, "dsv32 bench");
        Path dir = bm.dir();
        String modelName = bm.name();
        JsonNode cfg = bm.config();
        DecodeRoofline roof = new DecodeRoofline(cfg);

        int maxBatch = Arrays.stream(bs).max().getAsInt();
        int maxPre = Arrays.stream(pre).max().getAsInt();
        int maxPos = Math.max(maxPre, ctxs[ctxs.length - 1] + (nSteps + 1) * bs.length) + 8;
        LoadProgressBar bar = LoadProgressBar.forTerminal(err, "loading " + dir.getFileName());
        LoadProgressBar phases = LoadProgressBar.forTerminal(err, "bench", "steps");
        NativeOptions opts = NativeOptions.defaults()
                .withNumerics(numerics == null ? Numerics.DEFAULT : numerics)
                .withThreads(threads)
                .withMp(mp)
                .withMaxSeqLen(maxPos)
                .withMaxSequences(maxBatch + 1)
                .withProgress(bar);
        List<Row> rows = new ArrayList<>();
        double loadSecs;
        long rssAfterLoad;
        long peakRss;
        Numerics used;
        long t0 = System.nanoTime();
        NativeModel opened;
        try {
            opened = NativeModel.open(dir, opts);
        } finally {
            if (bar != null) bar.finish();
        }
        try (NativeModel m = opened; Phases ph = new Phases(phases)) {
            loadSecs = (System.nanoTime() - t0) / 1e9;
            rssAfterLoad = procStatusKb("VmRSS");
            used = m.info().numerics();
            int vocab = m.info().vocabSize();
            // Every step computes only what generation samples from: each entry's last logits row (forwardLast).
            long bufRows = maxBatch;
            FloatBuffer logits = ByteBuffer.allocateDirect(Math.toIntExact(bufRows * vocab * 4)).order(ByteOrder.nativeOrder()).asFloatBuffer();
            Ids ids = new Ids(seed, vocab);
            // warm-up: threads, caches, first-touch of the weights
            try (NativeSequence s = m.openSequence()) {
                ph.start("warm-up", 3);
                forward(m, List.of(BatchEntry.of(s, ids.next(Math.min(maxPre, 128)))), logits);
                ph.step();
                for (int i = 0; i < 2; i++) {
                    forward(m, List.of(BatchEntry.of(s, ids.next(1))), logits);
                    ph.step();
                }
            }
            // Prefill: the best of PREFILL_RUNS fresh sequences (the first run at a length also faults in the buffers
            // that length needs, which a long-running server has already; llama-bench and PyTorch timings repeat too).
            for (int p : pre) {
                ph.start("prefill " + p, PREFILL_RUNS);
                double secs = Double.POSITIVE_INFINITY;
                for (int run = 0; run < PREFILL_RUNS; run++) {
                    try (NativeSequence s = m.openSequence()) {
                        int[] t = ids.next(p);
                        long a = System.nanoTime();
                        forward(m, List.of(BatchEntry.of(s, t)), logits);
                        secs = Math.min(secs, (System.nanoTime() - a) / 1e9);
                    }
                    ph.step();
                }
                rows.add(new Row("prefill", 1, p, p / secs, secs * 1000 / p, Double.NaN));
            }
            List<NativeSequence> seqs = new ArrayList<>();
            try {
                for (int i = 0; i < maxBatch; i++) seqs.add(m.openSequence());
                for (int ctx : ctxs) {
                    int chunks = 0;
                    for (NativeSequence s : seqs) chunks += (int) ((Math.max(0, ctx - s.position()) + CONTEXT_CHUNK - 1) / CONTEXT_CHUNK);
                    ph.start("fill ctx" + ctx, chunks);
                    for (NativeSequence s : seqs) {
                        while (s.position() < ctx) {
                            int n = Math.min(CONTEXT_CHUNK, ctx - s.position());
                            forward(m, List.of(BatchEntry.of(s, ids.next(n))), logits);
                            ph.step();
                        }
                    }
                    // The batch sizes' steps interleaved (timeInterleaved), so that all of a context's cells and
                    // the batch scaling (their ratio) are timed over the same stretch of time.
                    ph.start("decode ctx" + ctx, (long) (nSteps + 1) * bs.length);
                    List<Runnable> steps = new ArrayList<>();
                    for (int b : bs) steps.add(() -> step(m, seqs.subList(0, b), ids, logits));
                    double[] secs = timeInterleaved(nSteps, steps, ph::step); // a redraw on change only: negligible
                    for (int j = 0; j < bs.length; j++) {
                        rows.add(new Row("decode", bs[j], ctx, bs[j] * nSteps / secs[j], secs[j] * 1000 / nSteps, roof.stepBytes(bs[j], ctx)));
                    }
                }
            } finally {
                for (NativeSequence s : seqs) s.close();
            }
            peakRss = procStatusKb("VmHWM");
        }
        // the bandwidth test runs last, so that its arrays do not count in the engine's peak RSS
        long n = quick ? 4L << 20 : 32L << 20;
        int bwRuns = quick ? 3 : 5;
        Bandwidth bw;
        try (Phases ph = new Phases(phases)) {
            ph.start("bandwidth", bwRuns + 1);
            bw = Bandwidth.measure((int) n, nThreads, bwRuns, ph::step);
        }
        List<Cell> cells = new ArrayList<>();
        for (Row r : rows) {
            if (r.phase.equals("prefill")) {
                cells.add(new Cell("prefill", 1, r.len, r.tps, r.msPerStep * r.len, Double.NaN, Double.NaN, Double.NaN,
                        roof.prefillFlops(r.len) / (r.msPerStep * r.len / 1000) / 1e9, Double.NaN));
            } else {
                double rt = r.batch * bw.bestGBs() * 1e9 / r.stepBytes;
                cells.add(new Cell("decode", r.batch, r.len, r.tps, r.msPerStep, r.stepBytes / 1e6, rt, r.tps / rt,
                        roof.decodeFlops(r.batch, r.len) / (r.msPerStep / 1000) / 1e9, overBatch1(rows, r)));
            }
        }
        String date = LocalDate.now(ZoneOffset.UTC).toString();
        if (csvFile != null) writeCsv(csvFile, cells);
        if (jsonFile != null) {
            ObjectNode root = Json.MAPPER.createObjectNode();
            ObjectNode meta = root.putObject("meta");
            meta.put("model", modelName);
            meta.put("model_path", dir.toAbsolutePath().normalize().toString());
            meta.put("model_type", cfg.path("model_type").asText("?"));
            meta.put("vocab_size", cfg.get("vocab_size").asInt());
            meta.put("hidden_size", cfg.get("hidden_size").asInt());
            meta.put("num_hidden_layers", cfg.get("num_hidden_layers").asInt());
            ObjectNode machine = meta.putObject("machine");
            machine.put("cpu", cpuModel());
            machine.put("cores", cores);
            long mem = memTotalBytes();
            if (mem >= 0) machine.put("mem_total_bytes", mem); else machine.putNull("mem_total_bytes");
            machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
            machine.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
            machine.put("cpu_kernels", cpuKernels());
            meta.put("numerics", used.name().toLowerCase(Locale.ROOT));
            meta.put("threads", nThreads);
            meta.put("mp", mp);
            meta.put("load_seconds", loadSecs);
            putBytes(meta, "rss_after_load_bytes", rssAfterLoad);
            putBytes(meta, "peak_rss_bytes", peakRss);
            meta.put("bandwidth_gb_s", bw.bestGBs());
            meta.put("bandwidth_array_bytes", n * 8);
            meta.put("bandwidth_runs", bw.runs());
            meta.put("decode_steps", nSteps);
            meta.put("roofline_bytes_per_token_batch1", roof.weightBytes(1, roof.indexTopk)); // weights, a scored step
            meta.put("date", date);
            ArrayNode arr = root.putArray("rows");
            for (Cell c : cells) {
                ObjectNode o = arr.addObject();
                o.put("phase", c.phase);
                o.put("batch", c.batch);
                o.put("tokens_or_context", c.len);
                o.put("tok_s", c.tps);
                o.put("ms_per_step", c.msPerStep);
                putNumber(o, "mb_read_per_step", c.mbRead);
                putNumber(o, "roofline_tok_s", c.rooflineTps);
                putNumber(o, "fraction_of_roofline", c.fraction);
                putNumber(o, "gflop_s", c.gflops);
                putNumber(o, "x_batch1", c.xBatch1);
            }
            try {
                Files.writeString(jsonFile, Json.pretty(root) + "\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CliException("--json " + json + ": cannot write: " + e.getMessage(), e);
            }
        }

        out.printf(Locale.ROOT, "## dsv32 bench: %s%n%n", modelName);
        out.printf(Locale.ROOT, "- model: %s (%s, vocab %d, hidden %d, %d layers)%n", dir.toAbsolutePath().normalize(),
                cfg.path("model_type").asText("?"), cfg.get("vocab_size").asInt(), cfg.get("hidden_size").asInt(), cfg.get("num_hidden_layers").asInt());
        out.printf(Locale.ROOT, "- machine: %s, %d cores, %s; %s, %s%n", cpuModel(), cores, memTotal(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"), date);
        out.printf(Locale.ROOT, "- engine: numerics %s, %d threads%s; CPU kernels %s; load %.2f s; RSS after load %s; peak RSS (VmHWM) %s%n",
                used.name().toLowerCase(Locale.ROOT), nThreads, mp > 1 ? " in " + mp + " model-parallel ranks" : "", cpuKernels(),
                loadSecs, mib(rssAfterLoad * 1024), mib(peakRss * 1024));
        out.printf(Locale.ROOT, "- memory bandwidth: %.1f GB/s (triad a[i] = b[i] + s*c[i], 3 x %d MiB, %d threads, best of %d)%n",
                bw.bestGBs(), n * 8 >> 20, nThreads, bw.runs());
        out.printf(Locale.ROOT, "- roofline bytes/token at batch 1: %.1f MB weights (dense+attention %.1f MB incl. head %.1f MB, routed experts %d/%d = %.1f MB) + KV; below top-k keys %.1f MB less (no index query)%n",
                roof.weightBytes(1, roof.indexTopk) / 1e6, roof.denseBytes / 1e6, roof.headBytes / 1e6, roof.expertsPerToken, roof.experts,
                roof.moeLayers * roof.expertsTouched(1) * roof.expertBytes / 1e6, (double) roof.layers * roof.indexQueryBytes / 1e6);
        out.println();
        out.println("| phase | batch | tokens / context | tok/s | ms/step | MB read/step | roofline tok/s | of roofline | GFLOP/s | x batch 1 |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Cell c : cells) {
            if (c.phase.equals("prefill")) {
                out.printf(Locale.ROOT, "| prefill | 1 | %d | %.1f | %.1f | - | - | - | %.1f | - |%n", c.len, c.tps, c.msPerStep, c.gflops);
            } else {
                out.printf(Locale.ROOT, "| decode | %d | %d | %.2f | %.1f | %.1f | %.1f | %.1f%% | %.1f | %s |%n", c.batch, c.len, c.tps,
                        c.msPerStep, c.mbRead, c.rooflineTps, 100 * c.fraction, c.gflops,
                        Double.isNaN(c.xBatch1) ? "-" : String.format(Locale.ROOT, "%.2fx", c.xBatch1));
            }
        }
        out.flush();
        return 0;
    }

    private record Row(String phase, int batch, int len, double tps, double msPerStep, double stepBytes) {}

    /**
     * A row of the table, CSV and JSON; NaN where the table shows "-" (prefill's bytes and roofline; the batch scaling
     * of prefill, batch 1 and a batch without a batch-1 row at its context).
     */
    private record Cell(String phase, int batch, int len, double tps, double msPerStep, double mbRead, double rooflineTps,
            double fraction, double gflops, double xBatch1) {}

    static final String CSV_HEADER =
            "phase,batch,tokens_or_context,tok_s,ms_per_step,mb_read_per_step,roofline_tok_s,fraction_of_roofline,gflop_s,x_batch1";

    /** A decode row's aggregate tokens/s over the batch-1 row's at its context; NaN for batch 1 or without that row. */
    private static double overBatch1(List<Row> rows, Row r) {
        if (r.batch == 1) return Double.NaN;
        for (Row b : rows)
            if (b.phase.equals("decode") && b.batch == 1 && b.len == r.len) return r.tps / b.tps;
        return Double.NaN;
    }

    /** An output file's path, checked before the run: its directory must exist and it must not be a directory. */
    private static Path outputFile(String option, String name) {
        Path p = Path.of(name).toAbsolutePath().normalize();
        Path parent = p.getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new CliException(option + " " + name + ": no such directory " + parent);
        if (Files.isDirectory(p)) throw new CliException(option + " " + name + ": is a directory");
        if (Files.exists(p) ? !Files.isWritable(p) : !Files.isWritable(parent)) throw new CliException(option + " " + name + ": not writable");
        return p;
    }

    private void writeCsv(Path file, List<Cell> cells) {
        StringBuilder b = new StringBuilder(CSV_HEADER).append('\n');
        for (Cell c : cells) {
            b.append(c.phase).append(',').append(c.batch).append(',').append(c.len).append(',').append(plain(c.tps)).append(',')
                    .append(plain(c.msPerStep)).append(',').append(plain(c.mbRead)).append(',').append(plain(c.rooflineTps))
                    .append(',').append(plain(c.fraction)).append(',').append(plain(c.gflops)).append(',').append(plain(c.xBatch1))
                    .append('\n');
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(b.toString());
        } catch (IOException e) {
            throw new CliException("--csv " + csv + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Plain decimal, dot separator, no exponent, whatever the locale; empty for NaN (the table's "-"). */
    static String plain(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return "";
        return BigDecimal.valueOf(v).toPlainString();
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) o.putNull(key);
        else o.put(key, v);
    }

    private static void putBytes(ObjectNode o, String key, long kb) {
        if (kb < 0) o.putNull(key);
        else o.put(key, kb * 1024);
    }

    /** The phases' progress bar (null off a terminal): one phase at a time, cleared when closed. */
    private static final class Phases implements AutoCloseable {
        private final LoadProgressBar bar;
        private String stage = "";
        private long done, total;

        Phases(LoadProgressBar bar) {
            this.bar = bar;
        }

        void start(String name, long steps) {
            stage = name;
            done = 0;
            total = steps;
            if (bar != null) bar.onProgress(stage, 0, total);
        }

        void step() {
            done++;
            if (bar != null) bar.onProgress(stage, done, total);
        }

        @Override
        public void close() {
            if (bar != null) bar.finish();
        }
    }

    /**
     * Seconds of nSteps timed runs of each step, interleaved: one run of each a round, after one untimed round (the
     * first steps after a fill). On a shared machine whose memory speed drifts from one minute to the next, cells timed
     * one after the other met different minutes, and a ratio of two cells moved with them; interleaved, they meet the
     * same ones. afterEach runs after every run, timed or not (progress), outside the timing.
     */
    static double[] timeInterleaved(int nSteps, List<Runnable> steps, Runnable afterEach) {
        long[] nanos = new long[steps.size()];
        for (int i = 0; i <= nSteps; i++) {
            for (int j = 0; j < steps.size(); j++) {
                long a = System.nanoTime();
                steps.get(j).run();
                if (i > 0) nanos[j] += System.nanoTime() - a;
                afterEach.run();
            }
        }
        double[] secs = new double[nanos.length];
        for (int j = 0; j < secs.length; j++) secs[j] = nanos[j] / 1e9;
        return secs;
    }

    private static void step(NativeModel m, List<NativeSequence> group, Ids ids, FloatBuffer logits) {
        List<BatchEntry> batch = new ArrayList<>(group.size());
        for (NativeSequence s : group) batch.add(BatchEntry.of(s, ids.next(1)));
        forward(m, batch, logits);
    }

    private static void forward(NativeModel m, List<BatchEntry> batch, FloatBuffer logits) {
        logits.clear();
        m.forwardLast(batch, logits);
    }

    /** Deterministic pseudo-random token ids (teacher forcing: the benchmark does not sample). */
    private static final class Ids {
        private long state;
        private final int vocab;

        Ids(long seed, int vocab) {
            this.state = seed * 0x9E3779B97F4A7C15L + 12345;
            this.vocab = vocab;
        }

        int[] next(int n) {
            int[] t = new int[n];
            for (int i = 0; i < n; i++) {
                state = state * 6364136223846793005L + 1442695040888963407L;
                t[i] = (int) Long.remainderUnsigned(state >>> 17, vocab);
            }
            return t;
        }
    }

    /** STREAM-triad-like bandwidth: a[i] = b[i] + s*c[i] over arrays far larger than the caches, 24 bytes per element. */
    record Bandwidth(double bestGBs, int runs) {
        static Bandwidth measure(int n, int threads, int runs, Runnable afterRun) throws Exception {
            double[] a = new double[n], b = new double[n], c = new double[n];
            Arrays.fill(b, 1.0);
            Arrays.fill(c, 2.0);
            int t = Math.max(1, threads);
            double best = 0;
            for (int r = 0; r < runs + 1; r++) { // the first run warms up the JIT and faults the pages in
                CyclicBarrier start = new CyclicBarrier(t);
                CountDownLatch done = new CountDownLatch(t);
                long[] begin = new long[t], end = new long[t];
                for (int k = 0; k < t; k++) {
                    int from = (int) ((long) n * k / t), to = (int) ((long) n * (k + 1) / t), id = k;
                    Thread th = new Thread(() -> {
                        try {
                            start.await();
                            begin[id] = System.nanoTime();
                            triad(a, b, c, 3.0, from, to);
                            end[id] = System.nanoTime();
                        } catch (Exception ignored) {
                            // not reached: the barrier is never broken
                        } finally {
                            done.countDown();
                        }
                    }, "dsv32-bench-triad");
                    th.setDaemon(true);
                    th.start();
                }
                done.await();
                // from the first thread's start to the last one's end (each thread times itself: the main thread may
                // not even be scheduled while the workers run)
                double secs = (Arrays.stream(end).max().getAsLong() - Arrays.stream(begin).min().getAsLong()) / 1e9;
                if (r > 0) best = Math.max(best, 24.0 * n / secs / 1e9);
                afterRun.run();
            }
            if (a[n / 2] != 7.0) throw new IllegalStateException("triad check failed");
            return new Bandwidth(best, runs);
        }

        private static void triad(double[] a, double[] b, double[] c, double s, int from, int to) {
            for (int i = from; i < to; i++) a[i] = b[i] + s * c[i];
        }
    }

    static long procStatusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    /** The CPU kernels' path and what takes their bf16 products here (AMX, AVX512-BF16), "?" without the library. */
    static String cpuKernels() {
        try {
            return dev.dsv32.nativ.KernelBench.cpuKernels();
        } catch (RuntimeException | LinkageError e) {
            return "?";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static String memTotal() {
        long b = memTotalBytes();
        return b < 0 ? "? RAM" : mib(b) + " RAM";
    }

    private static long memTotalBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    private static String mib(long bytes) {
        if (bytes < 0) return "n/a";
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
