package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.nativ.BatchEntry;
import dev.dsv32.nativ.KernelBench;
import dev.dsv32.nativ.KernelBench.WeightFormat;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.NativeSequence;
import dev.dsv32.nativ.Numerics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 bench report}: the end-to-end performance report of the native engine on one checkpoint (default the
 * synthetic {@code mini}): measured peaks (FMA GFLOP/s, triad bandwidth), kernels on the model's real shapes, prefill
 * GFLOP/s, decode tokens/s against context with DSA sparse attention and with forced dense attention, and batch
 * scaling; every number beside its reference as a ratio. Writes report.md and PNG charts (XChart) into --out.
 */
@Command(name = "report",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Run the end-to-end benchmark suite and write a Markdown report with PNG charts: peak FMA GFLOP/s and triad",
            "bandwidth measured in the same run; FP8/BF16/F32 linear kernels on the model's shapes (GEMV GB/s vs the",
            "bandwidth, GEMM GFLOP/s vs the peak); the FP8 linear kernel vs OpenBLAS sgemv/sgemm on the dequantised",
            "weights (loaded at run time; reported unavailable when not installed) and the indexer, sparse attention",
            "and MoE kernels; prefill GFLOP/s vs the peak; decode tokens/s vs context (256 -> 8K)",
            "with the DSA indexer on and with forced dense attention (two copies of the model open, their steps",
            "interleaved); batch scaling 1 -> 16 (steps interleaved); fractions of the bandwidth",
            "roofline; the llama.cpp / PyTorch numbers of the same mini checkpoint as peers. Default model: the",
            "synthetic mini (generated into the model cache on first use); --quick: a tiny matrix on tiny in seconds."
        })
final class BenchReportCommand implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR", defaultValue = "docs/perf",
            description = "Output directory for report.md and the PNGs (created; default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--quick", description = "A tiny matrix on the synthetic tiny model, in seconds (tests and CI)")
    boolean quick;

    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint directory (default: the synthetic --config model)")
    String model;

    @Option(names = "--config", paramLabel = "NAME", completionCandidates = MakeTinyCommand.ConfigCandidates.class,
            description = "Synthetic model when no --model (default: mini; tiny with --quick)")
    String config;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Engine and benchmark threads (default: all cores)")
    int threads;

    @Option(names = "--numerics", paramLabel = "MODE", converter = LogitsCommand.NumericsConverter.class,
            completionCandidates = LogitsCommand.NumericsCandidates.class, description = "f32 or fp8 (default: the model's)")
    Numerics numerics;

    @Option(names = "--contexts", split = ",", paramLabel = "L",
            description = "Decode contexts, sparse vs dense (default: 256,512,1024,2048,4096,8192; quick: 16,32,64,128)")
    int[] contexts;

    @Option(names = "--batches", split = ",", paramLabel = "B", description = "Batch sizes (default: 1,2,4,8,16; quick: 1,2,4)")
    int[] batches;

    @Option(names = "--prefill", split = ",", paramLabel = "N", description = "Prefill lengths (default: 512,2048; quick: 32,128)")
    int[] prefill;

    @Option(names = "--steps", paramLabel = "N", description = "Timed decode steps per cell (default: 8; quick: 4)")
    Integer steps;

    @Spec
    CommandSpec spec;

    /** Prefill chunk used to grow decode contexts. */
    private static final int CONTEXT_CHUNK = 1024;

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true");
        if (threads < 0) throw new CliException("--threads " + threads + ": must be at least 0");
        int[] ctxs = sortedPositive("--contexts", contexts != null ? contexts : quick ? new int[] {16, 32, 64, 128}
                : new int[] {256, 512, 1024, 2048, 4096, 8192});
        int[] bs = sortedPositive("--batches", batches != null ? batches : quick ? new int[] {1, 2, 4} : new int[] {1, 2, 4, 8, 16});
        int[] pre = sortedPositive("--prefill", prefill != null ? prefill : quick ? new int[] {32, 128} : new int[] {512, 2048});
        int nSteps = steps != null ? steps : quick ? 4 : 8;
        if (nSteps < 1) throw new CliException("--steps " + nSteps + ": must be at least 1");
        Path outDir = out.toAbsolutePath().normalize();
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new CliException("--out " + out + ": cannot create: " + e.getMessage(), e);
        }
        if (!Files.isWritable(outDir)) throw new CliException("--out " + out + ": not writable");
        PrintWriter err = spec.commandLine().getErr();
        int cores = Runtime.getRuntime().availableProcessors();
        int nThreads = threads > 0 ? threads : cores;
        long tStart = System.nanoTime();

        if (model == null) progress(err, "model " + (config != null ? config : quick ? "tiny" : "mini") + " (generated into the cache on first use)");
        BenchModel bm = BenchModel.resolve(model, config, quick, 1, err, "dsv32 bench report");
        Path dir = bm.dir();
        String modelName = bm.name();
        JsonNode cfg = bm.config();
        DecodeRoofline roof = new DecodeRoofline(cfg);
        boolean isMini = cfg.get("hidden_size").asInt() == 1024 && cfg.get("num_hidden_layers").asInt() == 8
                && cfg.get("vocab_size").asInt() == 129280;

        // 1. peaks, measured in this run
        progress(err, "peaks: FMA loop and triad bandwidth");
        double peak = KernelBench.fmaPeakGflops(nThreads, quick ? 0.02 : 0.5);
        long bwN = quick ? 2L << 20 : 32L << 20;
        BenchCommand.Bandwidth bw = BenchCommand.Bandwidth.measure((int) bwN, nThreads, quick ? 2 : 5, () -> {});
        double bwBytes = bw.bestGBs() * 1e9;
        double secsPeaks = secsSince(tStart);

        // 2. kernels on the model's shapes
        progress(err, "kernels: linear layers on the model's shapes");
        long t1 = System.nanoTime();
        List<KernelRow> kernels = kernels(cfg, nThreads, quick, peak, bwBytes);
        progress(err, "kernels: FP8 linear vs the OpenBLAS baseline; indexer, sparse attention, MoE");
        KernelBaseline.Result baseline = KernelBaseline.measure(cfg, nThreads, quick);
        double secsKernels = secsSince(t1);

        // 3-5. the engine: prefill, batch scaling, decode vs context (sparse and dense attention, steps interleaved)
        int maxCtx = ctxs[ctxs.length - 1];
        int maxBatch = bs[bs.length - 1];
        int batchCtx = quick ? 16 : 256;
        int maxPos = Math.max(pre[pre.length - 1], maxCtx + (nSteps + 1) * ctxs.length) + 8;
        NativeOptions base = NativeOptions.defaults()
                .withNumerics(numerics == null ? Numerics.DEFAULT : numerics)
                .withThreads(threads)
                .withMaxSeqLen(Math.max(maxPos, batchCtx + nSteps * bs.length * 2 + 8))
                .withMaxSequences(maxBatch + 1);
        List<PrefillRow> prefills = new ArrayList<>();
        List<DecodeRow> sparse, dense;
        List<BatchRow> batchRows = new ArrayList<>();
        String usedNumerics;
        long t2 = System.nanoTime();
        double secsPrefill, secsBatch, secsDecode;
        try (NativeModel m = NativeModel.open(dir, base)) {
            usedNumerics = m.info().numerics().name().toLowerCase(Locale.ROOT);
            Engine e = new Engine(m, maxBatch);
            e.warmUp();
            for (int p : pre) {
                progress(err, "prefill " + p);
                double secs = e.prefill(p);
                double gflops = roof.prefillFlops(p) / secs / 1e9;
                prefills.add(new PrefillRow(p, p / secs, gflops, gflops / peak));
            }
            secsPrefill = secsSince(t2);
            long t4 = System.nanoTime();
            List<NativeSequence> seqs = new ArrayList<>();
            try {
                for (int i = 0; i < maxBatch; i++) seqs.add(m.openSequence());
                progress(err, "batch scaling: filling " + maxBatch + " sequences to " + batchCtx);
                for (NativeSequence s : seqs) e.grow(s, batchCtx);
                progress(err, "batch " + Arrays.toString(bs) + ", steps interleaved");
                List<Runnable> steps = new ArrayList<>();
                for (int b : bs) steps.add(() -> e.step(seqs.subList(0, b)));
                long from = seqs.get(0).position();
                double[] secs = BenchCommand.timeInterleaved(nSteps, steps, () -> {});
                // the first sequence took every batch's steps: the rows' context is the middle of its range
                int ctxAt = (int) ((from + seqs.get(0).position()) / 2);
                double tps1 = Double.NaN;
                for (int j = 0; j < bs.length; j++) {
                    int b = bs[j];
                    double tps = (double) b * nSteps / secs[j];
                    if (j == 0) tps1 = tps / b;
                    double rt = roof.tokensPerSecond(b, ctxAt, bwBytes);
                    batchRows.add(new BatchRow(b, tps, tps / tps1, rt, tps / rt));
                }
            } finally {
                for (NativeSequence s : seqs) s.close();
            }
            secsBatch = secsSince(t4);
            // Decode against context with the DSA indexer (this model) and with dense attention (a second model of the
            // same checkpoint, DebugFlag.DENSE_ATTENTION, held open beside it), one step of each a round, so that both
            // columns of a context meet the same minutes of a machine whose speed drifts. Timed one after the other,
            // the columns met different minutes: on the 2-vCPU EPYC their ratio at contexts within top-k, where both
            // compute the same thing, read 0.66-0.97x.
            long t5 = System.nanoTime();
            try (NativeModel d = NativeModel.open(dir, base.withDebug(NativeOptions.DebugFlag.DENSE_ATTENTION))) {
                Engine de = new Engine(d, maxBatch);
                de.warmUp();
                List<List<DecodeRow>> both = decodeVsContext(List.of(e, de), new boolean[] {false, true}, ctxs, nSteps, err,
                        roof, bwBytes);
                sparse = both.get(0);
                dense = both.get(1);
            }
            secsDecode = secsSince(t5);
        }

        // charts and report
        progress(err, "charts and report");
        String date = LocalDate.now(ZoneOffset.UTC).toString();
        ReportCharts charts = new ReportCharts(outDir, modelName);
        charts.decodeVsContext(sparse, dense, roof.indexTopk);
        charts.batchScaling(batchRows, batchCtx);
        charts.roofline(sparse, dense, batchRows);
        charts.prefill(prefills, peak);
        double total = secsSince(tStart);
        StringBuilder md = new StringBuilder();
        Report.write(md, new Report.Inputs(modelName, dir, cfg, roof, isMini, quick, usedNumerics, nThreads, cores, date,
                peak, bw.bestGBs(), bwN, kernels, baseline, prefills, sparse, dense, batchRows, batchCtx,
                nSteps, new double[] {secsPeaks, secsKernels, secsPrefill, secsBatch, secsDecode, total}));
        Path report = outDir.resolve("report.md");
        Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "dsv32 bench report: wrote %s and %d charts in %.1f s%n", report, ReportCharts.FILES.size(), total);
        o.flush();
        return 0;
    }

    // ---- rows of the report ----

    /** A linear kernel on one of the model's shapes: GEMV (m = 1) GB/s and GEMM GFLOP/s with their references. */
    record KernelRow(String name, WeightFormat format, int n, int k, int m, double secs, double gbs, double ofBandwidth,
            double gflops, double ofPeak) {}

    record PrefillRow(int tokens, double tps, double gflops, double ofPeak) {}

    /** Decode at batch 1 and one context; roofline from the bytes the step reads (sparse or dense attention). */
    record DecodeRow(int ctx, double tps, double msPerStep, double rooflineTps, double ofRoofline) {}

    record BatchRow(int batch, double tps, double speedup, double rooflineTps, double ofRoofline) {}

    private static List<KernelRow> kernels(JsonNode c, int threads, boolean quick, double peak, double bwBytes) {
        int h = c.get("hidden_size").asInt(), qr = c.get("q_lora_rank").asInt(), kvr = c.get("kv_lora_rank").asInt();
        int nh = c.get("num_attention_heads").asInt(), dn = c.get("qk_nope_head_dim").asInt(), dr = c.get("qk_rope_head_dim").asInt();
        int dv = c.get("v_head_dim").asInt(), moe = c.get("moe_intermediate_size").asInt(), v = c.get("vocab_size").asInt();
        record Shape(String name, WeightFormat f, int n, int k) {}
        List<Shape> shapes = List.of(
                new Shape("attn wq_b", WeightFormat.FP8, nh * (dn + dr), qr),
                new Shape("attn wkv_b", WeightFormat.FP8, nh * (dn + dv), kvr),
                new Shape("attn wo", WeightFormat.FP8, h, nh * dv),
                new Shape("expert w1", WeightFormat.FP8, moe, h),
                new Shape("expert w2", WeightFormat.FP8, h, moe),
                new Shape("attn wq_b", WeightFormat.FP8_BF16X, nh * (dn + dr), qr),
                new Shape("attn wo", WeightFormat.FP8_BF16X, h, nh * dv),
                new Shape("expert w1", WeightFormat.FP8_BF16X, moe, h),
                new Shape("attn wq_b", WeightFormat.F32, nh * (dn + dr), qr),
                new Shape("attn wo", WeightFormat.F32, h, nh * dv),
                new Shape("head", WeightFormat.BF16, quick ? Math.min(v, 4096) : v, h));
        int gemmM = quick ? 16 : 128;
        int iters = quick ? 2 : 10;
        List<KernelRow> rows = new ArrayList<>();
        for (Shape s : shapes) {
            double g1 = KernelBench.linearSeconds(s.f, 1, s.n, s.k, threads, iters);
            double gbs = s.f.weightBytes(s.n, s.k) / g1 / 1e9;
            rows.add(new KernelRow(s.name, s.f, s.n, s.k, 1, g1, gbs, gbs * 1e9 / bwBytes, Double.NaN, Double.NaN));
            double gm = KernelBench.linearSeconds(s.f, gemmM, s.n, s.k, threads, Math.max(1, iters / 2));
            double gf = 2.0 * gemmM * s.n * s.k / gm / 1e9;
            rows.add(new KernelRow(s.name, s.f, s.n, s.k, gemmM, gm, Double.NaN, Double.NaN, gf, gf / peak));
        }
        return rows;
    }

    /** Forward steps on one model: last-position logits only, as generation does. */
    private static final class Engine {
        private final NativeModel m;
        private final FloatBuffer logits;
        private long state = 0x9E3779B97F4A7C15L;

        Engine(NativeModel m, int maxBatch) {
            this.m = m;
            this.logits = ByteBuffer.allocateDirect(Math.toIntExact((long) maxBatch * m.info().vocabSize() * 4))
                    .order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        int[] ids(int n) {
            int vocab = m.info().vocabSize();
            int[] t = new int[n];
            for (int i = 0; i < n; i++) {
                state = state * 6364136223846793005L + 1442695040888963407L;
                t[i] = (int) Long.remainderUnsigned(state >>> 17, vocab);
            }
            return t;
        }

        void forward(List<BatchEntry> batch) {
            logits.clear();
            m.forwardLast(batch, logits);
        }

        void warmUp() {
            try (NativeSequence s = m.openSequence()) {
                forward(List.of(BatchEntry.of(s, ids(32))));
                for (int i = 0; i < 2; i++) forward(List.of(BatchEntry.of(s, ids(1))));
            }
        }

        /** Seconds of an n-token prefill: the best of BenchCommand.PREFILL_RUNS fresh sequences (as bench). */
        double prefill(int n) {
            double best = Double.POSITIVE_INFINITY;
            for (int run = 0; run < BenchCommand.PREFILL_RUNS; run++) {
                try (NativeSequence s = m.openSequence()) {
                    int[] t = ids(n);
                    long a = System.nanoTime();
                    forward(List.of(BatchEntry.of(s, t)));
                    best = Math.min(best, secsSince(a));
                }
            }
            return best;
        }

        void grow(NativeSequence s, int ctx) {
            while (s.position() < ctx) {
                int n = (int) Math.min(CONTEXT_CHUNK, ctx - s.position());
                forward(List.of(BatchEntry.of(s, ids(n))));
            }
        }

        void step(List<NativeSequence> group) {
            List<BatchEntry> batch = new ArrayList<>(group.size());
            for (NativeSequence s : group) batch.add(BatchEntry.of(s, ids(1)));
            forward(batch);
        }
    }

    /**
     * Decode at batch 1 against context on each engine (one sequence each, grown to every context in turn), the engines'
     * steps interleaved at each context (BenchCommand.timeInterleaved). Per engine its rows, in
     * context order; denseAttention[j] picks engine j's roofline (the bytes a step reads with dense attention).
     */
    private static List<List<DecodeRow>> decodeVsContext(List<Engine> engines, boolean[] denseAttention, int[] ctxs, int nSteps,
            PrintWriter err, DecodeRoofline roof, double bwBytes) {
        int n = engines.size();
        List<List<DecodeRow>> rows = new ArrayList<>();
        List<NativeSequence> seqs = new ArrayList<>();
        try {
            for (Engine e : engines) {
                rows.add(new ArrayList<>());
                seqs.add(e.m.openSequence());
            }
            for (int ctx : ctxs) {
                progress(err, "decode sparse and dense attention, steps interleaved, at context " + ctx);
                int[] at = new int[n];
                for (int j = 0; j < n; j++) {
                    engines.get(j).grow(seqs.get(j), ctx);
                    at[j] = (int) seqs.get(j).position();
                }
                List<Runnable> steps = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    Engine e = engines.get(j);
                    List<NativeSequence> one = List.of(seqs.get(j));
                    steps.add(() -> e.step(one));
                }
                double[] secs = BenchCommand.timeInterleaved(nSteps, steps, () -> {});
                for (int j = 0; j < n; j++) {
                    double tps = nSteps / secs[j];
                    double bytes = denseAttention[j] ? roof.stepBytesDense(1, at[j]) : roof.stepBytes(1, at[j]);
                    double rt = bwBytes / bytes;
                    rows.get(j).add(new DecodeRow(ctx, tps, secs[j] * 1000 / nSteps, rt, tps / rt));
                }
            }
        } finally {
            for (NativeSequence s : seqs) s.close();
        }
        return rows;
    }

    private static int[] sortedPositive(String option, int[] v) {
        if (v.length == 0) throw new CliException(option + ": give at least one value");
        for (int x : v) if (x < 1) throw new CliException(option + " " + x + ": must be at least 1");
        int[] s = v.clone();
        Arrays.sort(s);
        return s;
    }

    private static double secsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void progress(PrintWriter err, String what) {
        err.println("dsv32 bench report: " + what);
        err.flush();
    }
}
