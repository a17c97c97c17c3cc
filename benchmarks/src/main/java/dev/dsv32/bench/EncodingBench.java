package dev.dsv32.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.encoding.ChatEncoder;
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

/**
 * {@code ChatEncoder.encodeJson} on the official search-agent conversation (50 messages, developer tools, 44 tool
 * calls; the prompt is about 172 KB). Throughput in MB/s counts the UTF-8 bytes of the prompt produced.
 *
 * <p>Defaults: one fork, 8 warm-up and 5 measured iterations of 1 s. The encoder needs about 5 s to reach steady
 * state on a 2-core machine (C2 compiles the large render methods late), so 3 warm-up iterations are too few.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
public class EncodingBench {
    /** Test input JSON, relative to the repository root (or absolute). */
    @Param({Inputs.DEFAULT_CONVERSATION})
    public String conversation;

    private List<JsonNode> messages;
    private ChatEncoder encoder;
    private int promptBytes;

    @Setup
    public void setup() {
        messages = Inputs.messages(conversation);
        encoder = ChatEncoder.defaults();
        promptBytes = Inputs.utf8Length(encoder.encodeJson(messages));
    }

    @Benchmark
    public String encodeJson(ByteCounter counter) {
        String prompt = encoder.encodeJson(messages);
        counter.bytes += promptBytes;
        return prompt;
    }
}
