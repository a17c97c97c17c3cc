package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.nativ.KernelBench;
import dev.dsv32.nativ.KernelBench.MoeShape;
import dev.dsv32.nativ.KernelBench.WeightFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code bench report} sections on the CPU kernels against references: the engine's FP8 linear kernel vs the
 * OpenBLAS baseline (sgemv / sgemm on the f32 dequantised weights, sbgemm on bf16 when the library has it; loaded at
 * run time, "unavailable" with the reason when not installed) on the model's layer shapes, for decode (m = 1, 4) and
 * prefill (m = 512; 16 with --quick); and the indexer, sparse attention and MoE kernels vs the FMA peak.
 */
final class KernelBaseline {
    private KernelBaseline() {}

    /** One shape: ours (FP8) and the baselines, seconds per call (NaN: not measured). */
    record Row(String layer, int n, int k, int m, double ours, double blasF32, double blasBf16) {
        double flops() {
            return 2.0 * m * n * k;
        }
    }

    /** A sparse-side kernel: its time, FLOPs and bytes per call. */
    record SparseRow(String kernel, String shape, double secs, double flops, double bytes) {}

    record Result(String library, boolean f32, boolean bf16, List<Row> rows, List<SparseRow> sparse) {}

    static Result measure(JsonNode c, int threads, boolean quick) {
        int h = c.get("hidden_size").asInt(), qr = c.get("q_lora_rank").asInt(), kvr = c.get("kv_lora_rank").asInt();
        int nh = c.get("num_attention_heads").asInt(), dn = c.get("qk_nope_head_dim").asInt(), dr = c.get("qk_rope_head_dim").asInt();
        int dv = c.get("v_head_dim").asInt(), inter = c.get("intermediate_size").asInt(), moe = c.get("moe_intermediate_size").asInt();
        record Shape(String name, int n, int k) {}
        List<Shape> shapes = List.of(new Shape("attn wq_b", nh * (dn + dr), qr), new Shape("attn wkv_b", nh * (dn + dv), kvr),
                new Shape("attn wo", h, nh * dv), new Shape("dense w1", inter, h), new Shape("expert w1", moe, h),
                new Shape("expert w2", h, moe));
        int[] ms = quick ? new int[] {1, 4, 16} : new int[] {1, 4, 512};
        boolean f32 = KernelBench.blasAvailable(WeightFormat.F32), bf16 = KernelBench.blasAvailable(WeightFormat.BF16);
        // One library at a time over every shape, the baseline last: each library's worker threads (OpenMP ours,
        // pthreads OpenBLAS) spin for a while after a call, and interleaving the two timed one against the other's
        // spinning threads (12 ms instead of 10 us for a small GEMM on 2 cores).
        record Cell(Shape s, int m, int iters) {}
        List<Cell> cells = new ArrayList<>();
        for (Shape s : shapes)
            for (int m : ms) cells.add(new Cell(s, m, quick ? 2 : m > 16 ? 3 : 20));
        double[] ours = new double[cells.size()], b32 = new double[cells.size()], b16 = new double[cells.size()];
        for (int i = 0; i < cells.size(); i++) {
            Cell c0 = cells.get(i);
            ours[i] = KernelBench.linearSeconds(WeightFormat.FP8, c0.m, c0.s.n, c0.s.k, threads, c0.iters);
        }
        List<SparseRow> sparse = sparse(c, threads, quick);  // before the baseline's threads exist
        for (int i = 0; i < cells.size(); i++) {
            Cell c0 = cells.get(i);
            b32[i] = f32 ? KernelBench.blasLinearSeconds(WeightFormat.F32, c0.m, c0.s.n, c0.s.k, threads, c0.iters) : Double.NaN;
        }
        for (int i = 0; i < cells.size(); i++) {
            Cell c0 = cells.get(i);
            b16[i] = bf16 ? KernelBench.blasLinearSeconds(WeightFormat.BF16, c0.m, c0.s.n, c0.s.k, threads, c0.iters) : Double.NaN;
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
            Cell c0 = cells.get(i);
            rows.add(new Row(c0.s.name, c0.s.n, c0.s.k, c0.m, ours[i], b32[i], b16[i]));
        }
        return new Result(KernelBench.blasDescription(), f32, bf16, rows, sparse);
    }

    private static List<SparseRow> sparse(JsonNode c, int threads, boolean quick) {
        int ih = c.get("index_n_heads").asInt(), id = c.get("index_head_dim").asInt(), topk = c.get("index_topk").asInt();
        int nh = c.get("num_attention_heads").asInt(), kvr = 512, dr = 64;  // dsv32_bench_sparse_attention's widths
        int iters = quick ? 2 : 10;
        List<SparseRow> rows = new ArrayList<>();
        for (int keys : quick ? new int[] {64, 128} : new int[] {1024, 4096, 8192}) {
            double s = KernelBench.indexerSeconds(ih, id, keys, topk, threads, iters);
            rows.add(new SparseRow("indexer", String.format(Locale.ROOT, "%d heads x %d, %d keys, top-%d", ih, id, keys, topk), s,
                    keys > topk ? 2.0 * keys * ih * id : 0, keys > topk ? 4.0 * keys * id : 0));
            int sel = Math.min(keys, topk);
            s = KernelBench.sparseAttentionSeconds(nh, keys, topk, threads, iters);
            rows.add(new SparseRow("sparse attention", String.format(Locale.ROOT, "%d heads, %d of %d keys", nh, sel, keys), s,
                    2.0 * nh * sel * (2 * kvr + dr), 4.0 * sel * (kvr + dr)));
        }
        MoeShape m = new MoeShape(c.get("hidden_size").asInt(), c.get("n_routed_experts").asInt(), c.get("n_group").asInt(),
                c.get("topk_group").asInt(), c.get("num_experts_per_tok").asInt(), c.get("moe_intermediate_size").asInt());
        for (int tokens : quick ? new int[] {1, 4} : new int[] {1, 4, 512}) {
            double s = KernelBench.moeSeconds(tokens, m, threads, tokens > 16 ? Math.max(1, iters / 3) : iters);
            int touched = Math.min(m.experts(), tokens * m.active()) + 1;  // at most; plus the shared expert
            rows.add(new SparseRow("MoE", String.format(Locale.ROOT, "%d tokens, %d experts (%d active) x %d, dim %d", tokens,
                    m.experts(), m.active(), m.inter(), m.dim()), s, m.flops(tokens),
                    3.0 * touched * m.dim() * m.inter() + 2.0 * m.experts() * m.dim()));
        }
        return rows;
    }

    static void write(StringBuilder b, Result r, double peakGflops, double bandwidthBytes) {
        Report.f(b, "## CPU kernels vs the OpenBLAS baseline%n%n");
        Report.f(b, "The engine's linear kernel on FP8 weights with 128x128 block scales (the checkpoint's format, "
                + "dequantised on the fly; native `dsv32_bench_linear`) against a peer BLAS on the same shapes: sgemv "
                + "(m = 1) / sgemm on the f32 dequantisation of the same weights, and sbgemm on bf16 copies when the "
                + "library has it (native `dsv32_bench_blas_linear`, the library opened at run time). GFLOP/s = 2 m n k "
                + "/ time; GB/s = weight bytes read per call / time (FP8: n k + scales, f32: 4 n k, bf16: 2 n k). "
                + "**ours / OpenBLAS** = OpenBLAS time / our time (> 1: ours is faster).%n%n");
        Report.f(b, "Baseline: %s.%n%n", r.f32 ? r.library
                : "unavailable (" + r.library + "); install it to fill the baseline columns (Debian: `apt-get install libopenblas0`)");
        Report.f(b, "| layer | n x k | m | ours FP8 | GFLOP/s | GB/s | OpenBLAS f32 | GFLOP/s | GB/s | ours / OpenBLAS |%s%n",
                r.bf16 ? " OpenBLAS bf16 | ours / bf16 |" : "");
        Report.f(b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|%s%n", r.bf16 ? "---:|---:|" : "");
        for (Row w : r.rows) {
            double ourGbs = WeightFormat.FP8.weightBytes(w.n, w.k) / w.ours / 1e9;
            double blasGbs = WeightFormat.F32.weightBytes(w.n, w.k) / w.blasF32 / 1e9;
            Report.f(b, "| %s | %d x %d | %d | %s | %s | %s | %s | %s | %s | %s |", w.layer, w.n, w.k, w.m, us(w.ours),
                    Report.num(w.flops() / w.ours / 1e9), Report.num(ourGbs), us(w.blasF32),
                    Report.num(w.flops() / w.blasF32 / 1e9), Report.num(blasGbs), ratio(w.blasF32 / w.ours));
            if (r.bf16) Report.f(b, " %s | %s |", us(w.blasBf16), ratio(w.blasBf16 / w.ours));
            Report.f(b, "%n");
        }
        if (r.f32 && !r.bf16) Report.f(b, "%nNo bf16 baseline: this OpenBLAS exports no `cblas_sbgemm` (built without BUILD_BFLOAT16).%n");
        Report.f(b, "%n## Indexer, sparse attention and MoE kernels%n%n");
        Report.f(b, "The engine's own code on synthetic data (native `dsv32_bench_indexer`, `dsv32_bench_sparse_attention`, "
                + "`dsv32_bench_moe`), one decode query / the given tokens; references: the FMA peak and the triad "
                + "bandwidth measured in this run (bytes: f32 keys and latents, FP8 expert weights touched at most).%n%n");
        Report.f(b, "| kernel | shape | time | GFLOP/s | of FMA peak | GB/s | of bandwidth |%n|---|---|---:|---:|---:|---:|---:|%n");
        for (SparseRow s : r.sparse) {
            double gf = s.flops / s.secs / 1e9, gbs = s.bytes / s.secs / 1e9;
            Report.f(b, "| %s | %s | %s | %s | %s | %s | %s |%n", s.kernel, s.shape, us(s.secs), s.flops > 0 ? Report.num(gf) : "-",
                    s.flops > 0 ? Report.pct(gf / peakGflops) : "-", s.bytes > 0 ? Report.num(gbs) : "-",
                    s.bytes > 0 ? Report.pct(gbs * 1e9 / bandwidthBytes) : "-");
        }
        Report.f(b, "%n");
    }

    private static String us(double secs) {
        return Double.isNaN(secs) ? "-" : String.format(Locale.ROOT, "%.1f us", secs * 1e6);
    }

    private static String ratio(double v) {
        return Double.isNaN(v) ? "-" : Report.x(v);
    }
}
