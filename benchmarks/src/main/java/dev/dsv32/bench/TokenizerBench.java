package dev.dsv32.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.dsv32.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
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
 * Single-thread encode throughput of the pure-Java tokenizer ({@code impl=dsv32}) against the Hugging Face Rust
 * tokenizer through DJL ({@code impl=hf-rust}, Rust tokenizers 0.21.0, truncation off, no special tokens added), on
 * the same corpus with the same chunking: the whole string at once, and newline-aligned chunks of at most 4096 chars.
 * One operation encodes the whole corpus; the {@code bytes} counter gives MB/s. That both produce the same ids is
 * checked elsewhere (DjlDifferentialTest, and the whole-process comparison with {@link HfTokenizeMain}).
 *
 * <p>Corpus: {@code benchmarks/corpus.sh} (5+ MB of English, Chinese, Japanese, Python). Run:
 * {@code java -cp benchmarks/target/benchmarks.jar dev.dsv32.bench.BenchReport TokenizerBench -f 1 -wi 2 -i 3}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 10)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class TokenizerBench {
    @Param({Corpus.DEFAULT})
    public String corpus;

    @Param({"dsv32", "hf-rust"})
    public String impl;

    @Param({"chunks4k", "whole"})
    public String chunking;

    private List<String> inputs;
    private int bytes;
    private Tokenizer dsv32;
    private HuggingFaceTokenizer hf;
    private Path tmp;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        String text = Corpus.load(corpus);
        bytes = text.getBytes(StandardCharsets.UTF_8).length;
        inputs = chunking.equals("whole") ? List.of(text) : Corpus.chunks(text, 4096);
        if (impl.equals("dsv32")) {
            dsv32 = Tokenizer.v32();
        } else {
            hf = hfRust();
        }
    }

    /** DJL's Hugging Face tokenizer on the same tokenizer.json, configured not to truncate or add tokens. */
    static HuggingFaceTokenizer hfRust() throws IOException {
        Path dir = Files.createTempDirectory("dsv32-bench-djl");
        System.setProperty("DJL_CACHE_DIR", dir.resolve("cache").toString());
        Path json = dir.resolve("tokenizer.json");
        try (InputStream in = Tokenizer.class.getResourceAsStream("tokenizer.json")) {
            Files.copy(in, json, StandardCopyOption.REPLACE_EXISTING);
        }
        return HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "false", "truncation", "false",
                "padding", "false", "modelMaxLength", "1000000000"));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (hf != null) hf.close();
    }

    @Benchmark
    public long encodeCorpus(ByteCounter counter) {
        long ids = 0;
        if (dsv32 != null) {
            for (String s : inputs) ids += dsv32.encode(s).length;
        } else {
            for (String s : inputs) ids += hf.encode(s, false, false).getIds().length;
        }
        counter.bytes += bytes;
        return ids;
    }
}
