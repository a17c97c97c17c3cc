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
 * The attention side of one decode token on mini's real per-head shapes, through the engine's own kernels on synthetic
 * data (native {@code dsv32_bench_indexer}, {@code dsv32_bench_sparse_attention}): the DSA indexer (64 heads x 128
 * scores over every cached key, then the top-512) and the sparse absorbed attention of 16 heads over the selected
 * keys. {@code keys} is the context; below top-k the indexer selects every key without scoring (as the engine).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main SparseKernelsBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SparseKernelsBench {
    /** Cached keys (the context); -Pfull: 1024 .. 16384. */
    @Param({"1024", "4096"})
    public int keys;

    /** Threads (0 = every core). */
    @Param({"0"})
    public int threads;

    /** Makes the synthetic data once per trial (the native entry points keep it while the shape stays). */
    @Setup(Level.Trial)
    public void data() {
        indexer();
        sparseAttention();
    }

    /** Indexer scores (64 heads x 128 per key) and the top-512 selection. */
    @Benchmark
    public double indexer() {
        return KernelBench.indexerSeconds(MiniShapes.INDEX_HEADS, MiniShapes.INDEX_HEAD_DIM, keys, MiniShapes.INDEX_TOPK,
                threads, 1);
    }

    /** Sparse absorbed attention, 16 heads over min(512, keys) selected 576-wide entries. */
    @Benchmark
    public double sparseAttention() {
        return KernelBench.sparseAttentionSeconds(MiniShapes.HEADS, keys, MiniShapes.INDEX_TOPK, threads, 1);
    }
}
