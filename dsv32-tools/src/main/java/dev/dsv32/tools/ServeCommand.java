package dev.dsv32.tools;

import dev.dsv32.api.Model;
import dev.dsv32.tools.serve.OpenAiServer;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 serve}: an OpenAI-compatible HTTP server over the model ({@link OpenAiServer}); runs until interrupted.
 */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Serve the model over an OpenAI-compatible HTTP API: /v1/chat/completions (streaming, tools,"
                + " reasoning_content), /v1/completions (raw prompt), /v1/models, /health, /metrics (Prometheus).",
                "Runs until interrupted (Ctrl-C, SIGTERM)."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 for all interfaces)")
    String host;

    @Option(names = "--port", paramLabel = "P", defaultValue = "8000", description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:DSV32_API_KEY}",
            description = "Require Authorization: Bearer KEY on every endpoint but /health (default: $DSV32_API_KEY; unset: no authentication)")
    String apiKey;

    @Option(names = "--served-model-name", paramLabel = "NAME",
            description = "The model name clients send (default: tiny_chat, or the checkpoint directory's name)")
    String servedName;

    @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "4194304",
            description = "Largest request body accepted; larger ones get 413 (default: ${DEFAULT-VALUE})")
    long maxBodyBytes;

    @Option(names = "--rate-limit", paramLabel = "RPS", defaultValue = "0",
            description = "Requests per second per client address (bursts of twice that); more get 429 (default: no limit)")
    double rateLimit;

    @Option(names = "--body-timeout", paramLabel = "MS", defaultValue = "60000",
            description = "A request body must arrive within MS milliseconds, else 408 (default: ${DEFAULT-VALUE})")
    long bodyTimeoutMillis;

    @Option(names = "--thinking", paramLabel = "on|off", arity = "1", defaultValue = "off", converter = Converters.OnOff.class,
            description = "Thinking mode for chat requests that do not ask (chat_template_kwargs.thinking); default: ${DEFAULT-VALUE}")
    boolean thinking;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new CliException("--port must be in 0..65535, got " + port);
        if (rateLimit < 0 || !Double.isFinite(rateLimit)) throw new CliException("--rate-limit must be >= 0, got " + rateLimit);
        if (bodyTimeoutMillis < 1) throw new CliException("--body-timeout must be >= 1, got " + bodyTimeoutMillis);
        PrintWriter err = spec.commandLine().getErr();
        Model model = modelOptions.open(err);
        OpenAiServer server;
        try {
            OpenAiServer.Builder b = OpenAiServer.builder(model).host(host).port(port).apiKey(apiKey)
                    .modelName(servedName != null ? servedName : modelOptions.name())
                    .maxBodyBytes(maxBodyBytes).bodyTimeoutMillis(bodyTimeoutMillis).defaultThinking(thinking);
            if (rateLimit > 0) b.rateLimit(rateLimit, (int) Math.max(1, Math.ceil(2 * rateLimit)));
            server = b.build().start();
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            server.close();
            model.close();
            stopped.countDown();
        }, "dsv32-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        err.println("dsv32 serve: " + server.modelName() + " at " + server.baseUrl() + "/v1"
                + (apiKey == null || apiKey.isEmpty() ? "" : " (API key required)") + "; Ctrl-C stops");
        err.flush();
        server.join();
        stopped.await();
        return 0;
    }
}
