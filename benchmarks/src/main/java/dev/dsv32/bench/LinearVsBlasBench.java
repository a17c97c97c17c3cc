package dev.dsv32.bench;

import dev.dsv32.nativ.KernelBench;
import dev.dsv32.nativ.KernelBench.WeightFormat;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The engine's linear kernel on FP8 block-scaled weights ({@code fp8}, what the checkpoint holds) against the peer
 * baseline: OpenBLAS sgemv / sgemm on the f32 dequantisation of the same kind of weights ({@code openblasF32}) and, when
 * the library has it, sbgemm on bf16 copies ({@code openblasBf16}). One op = one call {@code y[m, n] = x[m, k] W^T};
 * FLOPs 2 m n k, weights read: n k bytes (FP8) vs 4 n k (f32). mini's layers; m = 1, 4 (decode) and 512 (prefill).
 * The baseline is loaded at run time (Debian: {@code apt-get install libopenblas0}); without it the openblas
 * benchmarks fail in their setup with the reason and the others run.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main LinearVsBlasBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class LinearVsBlasBench {
    /** mini layer ({@link MiniShapes#LINEAR}); -Pfull runs them all. */
    @Param({"wo", "dense_w1"})
    public String shape;

    /** Rows of x: 1 and 4 decode, 512 prefill. */
    @Param({"1", "4", "512"})
    public int m;

    /** Threads (0 = every core). */
    @Param({"0"})
    public int threads;

    private int n, k;

    @Setup(Level.Trial)
    public void shape(BenchmarkParams params) {
        int[] nk = MiniShapes.linear(shape);
        n = nk[0];
        k = nk[1];
        // The synthetic data, made once per trial by the benchmark's own entry point (only that library's threads run).
        if (params.getBenchmark().endsWith(".fp8")) KernelBench.linearSeconds(WeightFormat.FP8, m, n, k, threads, 1);
    }

    /** Ours: FP8 weights with 128x128 block scales, dequantised on the fly. */
    @Benchmark
    public double fp8() {
        return KernelBench.linearSeconds(WeightFormat.FP8, m, n, k, threads, 1);
    }

    /** OpenBLAS on the f32 dequantised weights (sgemv for m = 1, else sgemm). */
    @Benchmark
    public double openblasF32(Baseline b) {
        return KernelBench.blasLinearSeconds(WeightFormat.F32, m, n, k, threads, 1);
    }

    /** OpenBLAS sbgemm on bf16 weights and activations (an OpenBLAS built with BUILD_BFLOAT16 only). */
    @Benchmark
    public double openblasBf16(Bf16Baseline b) {
        return KernelBench.blasLinearSeconds(WeightFormat.BF16, m, n, k, threads, 1);
    }

    /** Fails the openblas benchmarks' setup, naming the reason, when there is no baseline library here. */
    @State(Scope.Benchmark)
    public static class Baseline {
        @Setup(Level.Trial)
        public void check(LinearVsBlasBench b) {
            if (!KernelBench.blasAvailable(WeightFormat.F32))
                throw new IllegalStateException("baseline unavailable: " + KernelBench.blasDescription());
            int[] nk = MiniShapes.linear(b.shape);
            KernelBench.blasLinearSeconds(WeightFormat.F32, b.m, nk[0], nk[1], b.threads, 1);  // the data, once
        }
    }

    /** As {@link Baseline}, for bf16 (sbgemm). */
    @State(Scope.Benchmark)
    public static class Bf16Baseline {
        @Setup(Level.Trial)
        public void check(LinearVsBlasBench b) {
            if (!KernelBench.blasAvailable(WeightFormat.BF16))
                throw new IllegalStateException("bf16 baseline unavailable: " + KernelBench.blasDescription()
                        + (KernelBench.blasAvailable(WeightFormat.F32) ? " has no cblas_sbgemm" : ""));
            int[] nk = MiniShapes.linear(b.shape);
            KernelBench.blasLinearSeconds(WeightFormat.BF16, b.m, nk[0], nk[1], b.threads, 1);  // the data, once
        }
    }
}
