package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.api.tools.Agent;
import dev.dsv32.api.tools.AgentResult;
import dev.dsv32.api.tools.Param;
import dev.dsv32.api.tools.Tool;
import dev.dsv32.api.tools.ToolRegistry;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Tokens;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's "Java API" example: it compiles here, runs (on the scripted engine), and the README shows this code. */
class ReadmeExampleTest {
    // README:BEGIN
    public static class WeatherTools {
        @Tool("Current weather in a city")
        public String weather(@Param("City name") String city) {
            return "22°C and sunny in " + city;
        }
    }

    static void example(Model model) {
        // Generate: reasoning and answer, parsed
        GenerateResult r = model.generate(GenerateRequest.builder()
                .messages(Message.system("You are concise."), Message.user("What is 2 + 2?"))
                .maxTokens(256).build());
        System.out.println(r.reasoning() + " | " + r.content() + " | " + r.finishReason());

        // Stream: deltas as they are generated, then the final result
        GenerateResult streamed = model.stream(GenerateRequest.builder()
                .messages(Message.user("Tell me a story.")).thinking(false).maxTokens(200).build(), event -> {
            if (event instanceof Event.ContentDelta d) System.out.print(d.text());
        }).join();
        System.out.println(" (" + streamed.usage().completionTokens() + " tokens)");

        // Tools: the model calls Java methods until it can answer
        Agent agent = Agent.builder(model)
                .tools(ToolRegistry.builder().add(new WeatherTools()).build())
                .maxSteps(5).build();
        AgentResult answer = agent.run("What's the weather in Hangzhou?");
        System.out.println(answer.content() + " after " + answer.invocations().size() + " tool call(s)");
    }
    // README:END

    @Test
    void theExampleRunsAndPrintsWhatTheModelWrote() {
        String call = "Need the weather.</think>\n\n<" + Tokens.DSML + "function_calls>\n<" + Tokens.DSML + "invoke name=\"weather\">\n<"
                + Tokens.DSML + "parameter name=\"city\" string=\"true\">Hangzhou</" + Tokens.DSML + "parameter>\n</" + Tokens.DSML
                + "invoke>\n</" + Tokens.DSML + "function_calls>";
        ScriptedEngine engine = ScriptedEngine.of("Simple arithmetic.</think>4", "Once upon a time.", call,
                "It is sunny.</think>It is 22°C and sunny in Hangzhou.");
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (Model model = Model.builder().engine(engine).build()) {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            example(model);
        } finally {
            System.setOut(out);
        }
        assertEquals(List.of("Simple arithmetic. | 4 | STOP", "Once upon a time. (6 tokens)",
                "It is 22°C and sunny in Hangzhou. after 1 tool call(s)"), buf.toString(StandardCharsets.UTF_8).lines().toList());
        assertTrue(engine.prompts().get(3).contains("<result>22°C and sunny in Hangzhou</result>"));
    }

    @Test
    void theReadmeShowsThisCode() throws Exception {
        String src = Files.readString(Path.of("src/test/java/dev/dsv32/api/ReadmeExampleTest.java"));
        String code = src.substring(src.indexOf("// README:BEGIN\n") + 16, src.indexOf("    // README:END"));
        String readme = Files.readString(Path.of("../README.md"));
        String unindented = code.lines().map(l -> l.startsWith("    ") ? l.substring(4) : l).reduce("", (a, b) -> a + b + "\n");
        assertTrue(readme.contains(unindented), "README.md's Java API section must contain the example exactly:\n" + unindented);
    }
}
