package dev.dsv32.springai;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Spring AI's ChatClient over the auto-configured Dsv32ChatModel: a @Tool round trip (Spring AI's ToolCallingManager
 * runs the tool), on a Model bean of scripted completions.
 */
@SpringBootTest(properties = {"dsv32.chat.temperature=0.6", "dsv32.chat.max-tokens=512"})
class ChatClientToolRoundTripTest {
    static final ScriptedEngine ENGINE = ScriptedEngine.of(prompt -> {
        if (prompt.contains("<result>")) return Dsml.answer("The tool gave the weather.", "It is 22 degrees and sunny in Hangzhou.");
        return Dsml.call("I should look up the weather.", "currentWeather", "city", "\"Hangzhou\"");
    });

    @Configuration
    @EnableAutoConfiguration
    static class App {
        @Bean
        Model model() {
            return Model.builder().engine(ENGINE).build();
        }
    }

    static final class WeatherTools {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool(description = "The current weather in a city")
        public String currentWeather(@ToolParam(description = "the city") String city) {
            cities.add(city);
            return "22 degrees and sunny in " + city;
        }
    }

    @Autowired
    ChatModel chatModel;

    @Autowired
    Model model;

    private int before;

    @BeforeEach
    void mark() {
        before = ENGINE.prompts().size();
    }

    @Test
    void chatClientCompletesAToolRoundTrip() {
        assertInstanceOf(Dsv32ChatModel.class, chatModel, "auto-configured over the application's Model bean");
        WeatherTools tools = new WeatherTools();
        String content = ChatClient.create(chatModel).prompt().user("What's the weather in Hangzhou?").tools(tools).call().content();
        assertEquals("It is 22 degrees and sunny in Hangzhou.", content);
        assertEquals(List.of("Hangzhou"), tools.cities);
        List<String> prompts = ENGINE.prompts().subList(before, ENGINE.prompts().size());
        assertEquals(2, prompts.size());
        assertTrue(prompts.get(0).contains("\"name\": \"currentWeather\"") && prompts.get(0).contains("The current weather in a city"), prompts.get(0));
        assertTrue(prompts.get(1).contains("I should look up the weather.</think>"), "the tool-loop turn keeps its reasoning: " + prompts.get(1));
        assertTrue(prompts.get(1).contains("<result>22 degrees and sunny in Hangzhou</result>"), prompts.get(1));
        assertEquals(0, model.metrics().openSequences());
    }

    @Test
    void streamingCompletesAToolRoundTripAndCarriesReasoningApart() {
        WeatherTools tools = new WeatherTools();
        List<ChatResponse> chunks = ChatClient.create(chatModel).prompt().user("Weather in Hangzhou, please").tools(tools)
                .stream().chatResponse().collectList().block();
        assertNotNull(chunks);
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        for (ChatResponse c : chunks) {
            if (c.getResult() == null) continue;
            content.append(c.getResult().getOutput().getText() == null ? "" : c.getResult().getOutput().getText());
            Object r = c.getResult().getOutput().getMetadata().get(Dsv32ChatModel.REASONING_CONTENT);
            if (r != null) reasoning.append(r);
        }
        assertEquals("It is 22 degrees and sunny in Hangzhou.", content.toString());
        assertEquals("I should look up the weather.The tool gave the weather.", reasoning.toString());
        assertEquals(List.of("Hangzhou"), tools.cities);
    }

    @Test
    void propertiesBecomeTheDefaultOptions() {
        Dsv32ChatOptions o = (Dsv32ChatOptions) chatModel.getDefaultOptions();
        assertEquals(0.6, o.getTemperature());
        assertEquals(512, o.getMaxTokens());
        assertNull(o.getThinking());
    }
}
