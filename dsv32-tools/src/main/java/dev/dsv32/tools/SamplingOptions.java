package dev.dsv32.tools;

import dev.dsv32.api.GenerateRequest;
import picocli.CommandLine.Option;

/** Sampling options of {@code chat} and {@code generate}; the API checks the values and names them. */
final class SamplingOptions {
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0", description = "Softmax temperature; 0 is greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Nucleus mass in (0, 1]; 1 is off (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens; 0 is off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", paramLabel = "N", description = "Sampling seed (default: random)")
    Long seed;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256", description = "Completion tokens at most (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--thinking", paramLabel = "on|off", arity = "1", defaultValue = "off", converter = Converters.OnOff.class,
            description = "Thinking mode: the model reasons before answering (default: ${DEFAULT-VALUE})")
    boolean thinking;

    /** Sets the sampling fields on {@code b}; bad values are {@link IllegalArgumentException}s naming the option. */
    GenerateRequest.Builder apply(GenerateRequest.Builder b) {
        try {
            b.temperature(temperature).topP(topP).topK(topK).maxTokens(maxTokens).thinking(thinking);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage().replace("temperature", "--temperature").replace("topP", "--top-p")
                    .replace("topK", "--top-k").replace("maxTokens", "--max-tokens"));
        }
        if (seed != null) b.seed(seed);
        return b;
    }
}
