package dev.dsv32.bench;

import dev.dsv32.encoding.LenientParser;
import dev.dsv32.encoding.ParseOptions;
import dev.dsv32.encoding.ParseResult;
import dev.dsv32.encoding.StreamingParser;
import dev.dsv32.encoding.StrictParser;
import dev.dsv32.encoding.ThinkingMode;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The strict, lenient and streaming parsers on well-formed completions built from the official search-agent
 * conversation. {@code shape=large}: one completion of at least 256 KiB (all reasoning, content and tool calls of the
 * conversation, repeated); {@code shape=turns}: its 5 assistant turns as separate completions, as the model wrote
 * them. Throughput in MB/s counts the UTF-8 bytes of completion text parsed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
public class ParsingBench {
    /** Characters per streaming delta. */
    public static final int CHUNK = 16;

    @Param({Inputs.DEFAULT_CONVERSATION})
    public String conversation;

    @Param({"large", "turns"})
    public String shape;

    private String[] completions;
    private String[][] chunked;
    private int bytesPerOp;
    private ParseOptions options;

    @Setup
    public void setup() {
        var messages = Inputs.messages(conversation);
        completions = switch (shape) {
            case "large" -> new String[] {Inputs.largeCompletion(messages)};
            case "turns" -> Inputs.turnCompletions(messages);
            default -> throw new IllegalArgumentException("shape must be large or turns: " + shape);
        };
        chunked = new String[completions.length][];
        for (int i = 0; i < completions.length; i++) chunked[i] = Inputs.chunks(completions[i], CHUNK);
        bytesPerOp = Inputs.utf8Length(completions);
        options = ParseOptions.builder().maxToolCalls(Integer.MAX_VALUE).build();
        // Benchmark the well-formed path only: every parser must agree and repair nothing.
        for (String c : completions) {
            var strict = StrictParser.parse(c, ThinkingMode.THINKING);
            ParseResult lenient = LenientParser.parse(c, ThinkingMode.THINKING, options);
            if (lenient.repaired() || !lenient.message().equals(strict)) {
                throw new IllegalStateException("input is not parsed identically by the strict and lenient parsers: "
                        + lenient.repairs());
            }
        }
    }

    @Benchmark
    public void strict(Blackhole bh, ByteCounter counter) {
        for (String c : completions) bh.consume(StrictParser.parse(c, ThinkingMode.THINKING));
        counter.bytes += bytesPerOp;
    }

    @Benchmark
    public void lenient(Blackhole bh, ByteCounter counter) {
        for (String c : completions) bh.consume(LenientParser.parse(c, ThinkingMode.THINKING, options));
        counter.bytes += bytesPerOp;
    }

    /** The text arrives in 16-character deltas; every event list is consumed, as a server would forward them. */
    @Benchmark
    public void streaming16(Blackhole bh, ByteCounter counter) {
        for (String[] chunks : chunked) {
            StreamingParser p = new StreamingParser(ThinkingMode.THINKING, options);
            for (String delta : chunks) bh.consume(p.feed(delta));
            List<?> last = p.finish();
            bh.consume(last);
            bh.consume(p.result());
        }
        counter.bytes += bytesPerOp;
    }
}
