package dev.dsv32.bench;

import dev.dsv32.nativ.KernelBench;
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

/**
 * One MoE layer of mini (native {@code dsv32_bench_moe}: bf16 gate + bias, noaux_tc routing over 64 experts in 8
 * groups, top-4 groups, 8 active; the shared and routed SwiGLU experts, FP8, width 256) on {@code tokens} tokens: decode
 * batches (1, 4) and, with -Pfull, prefill chunks. FLOPs per op: {@link KernelBench.MoeShape#flops}.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main MoeBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class MoeBench {
    /** Tokens routed together; -Pfull: 1, 4, 16, 128, 512. */
    @Param({"1", "4"})
    public int tokens;

    /** Threads (0 = every core). */
    @Param({"0"})
    public int threads;

    /** Makes the synthetic data (65 FP8 experts) once per trial: the native entry point keeps it while the shape stays. */
    @Setup(Level.Trial)
    public void data() {
        moe();
    }

    /** Router and experts. */
    @Benchmark
    public double moe() {
        return KernelBench.moeSeconds(tokens, KernelBench.MoeShape.MINI, threads, 1);
    }
}
