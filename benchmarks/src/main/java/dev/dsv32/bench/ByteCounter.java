package dev.dsv32.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * UTF-8 bytes processed, reported by JMH as the secondary metric {@code bytes} in the benchmark's throughput unit:
 * with {@code ops/s} it is bytes per second (divide by 10^6 for MB/s; {@link BenchReport} does it).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ByteCounter {
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
        bytes = 0;
    }
}
