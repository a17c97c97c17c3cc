package dev.dsv32.samples.boot;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.Model;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** The whole life of the app: start, serve a request from tiny_chat, shut down, and the model's native memory is freed. */
class StartServeShutdownTest {
    @Test
    void startsServesAndShutsDownReleasingTheModel() throws Exception {
        ConfigurableApplicationContext ctx = SpringApplication.run(Dsv32SampleApplication.class,
                "--server.port=0", "--dsv32.model.max-context=512", "--dsv32.model.max-sequences=2");
        Model model;
        try {
            model = ctx.getBean(Model.class);
            String port = ctx.getEnvironment().getProperty("local.server.port");
            HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/generate"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"message\": \"Hi\", \"maxTokens\": 8, \"thinking\": false}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, resp.statusCode(), resp.body());
            assertTrue(resp.body().contains("\"completionTokens\":"), resp.body());
            assertTrue(model.metrics().completionTokens() >= 1, "the engine generated the reply");
            assertFalse(model.isClosed());
            assertTrue(model.metrics().cache().isPresent(), "the native engine reports its KV pool while open");
        } finally {
            ctx.close();
        }
        assertTrue(model.isClosed(), "closing the context closed the model");
        assertEquals(0, model.metrics().openSequences());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.generate(GenerateRequest.of("again")));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
