package dev.dsv32.bench;

import dev.dsv32.nativ.BatchEntry;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.NativeSequence;
import dev.dsv32.nativ.Numerics;
import dev.dsv32.nativ.jni.Dsv32Native;
import dev.dsv32.nativ.synth.SynthConfig;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JNI call overhead per forward step: one decode step of the synthetic {@code tiny} model at batch 1 through
 * {@link NativeModel#forwardLast} (argument checks, one JNI call, the native step) next to a JNI call that does no
 * work ({@code dsv32_bench_kernel_path}). The overhead per step is {@code jniNoop}; its share of a step is {@code jniNoop / decodeStep}.
 * Defaults suit a 2-core machine; for a full run pass {@code -f 3 -wi 5 -i 10 -r 5s}.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main JniOverheadBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
public class JniOverheadBench {
    /** Context the sequence is reset to after every {@link #WINDOW} steps (so every step sees about the same context). */
    @Param({"64"})
    public int context;

    private static final int WINDOW = 256;
    private NativeModel model;
    private NativeSequence seq;
    private FloatBuffer logits;
    private int[] token = {1};
    private long steps;

    @Setup(Level.Trial)
    public void open() throws Exception {
        model = NativeModel.open(SyntheticCheckpoint.cached(SynthConfig.of("tiny"), 1),
                NativeOptions.defaults().withNumerics(Numerics.F32).withThreads(1).withMaxSeqLen(context + WINDOW + 8));
        logits = ByteBuffer.allocateDirect(model.info().vocabSize() * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        reset();
    }

    private void reset() {
        if (seq != null) seq.close();
        seq = model.openSequence();
        int[] prompt = new int[context];
        for (int i = 0; i < context; i++) prompt[i] = (i * 31 + 7) % model.info().vocabSize();
        logits.clear();
        model.forwardLast(List.of(BatchEntry.of(seq, prompt)), logits);
    }

    @TearDown(Level.Trial)
    public void close() {
        model.close();
    }

    /** One decode step at batch 1 through the Java API (checks + one JNI call + the native step). */
    @Benchmark
    public float decodeStep() {
        if (++steps % WINDOW == 0) reset();
        token[0] = (int) (steps % 500);
        logits.clear();
        model.forwardLast(List.of(BatchEntry.of(seq, token)), logits);
        return logits.get(0);
    }

    /** One JNI crossing that does no work: the floor of any native call. */
    @Benchmark
    public Object jniNoop() {
        return Dsv32Native.dsv32_bench_kernel_path();
    }
}
