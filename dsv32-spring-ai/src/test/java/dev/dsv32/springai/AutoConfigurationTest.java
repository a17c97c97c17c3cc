package dev.dsv32.springai;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Model;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** When the auto-configuration creates beans, how it reports bad properties, and that shutdown closes the model. */
class AutoConfigurationTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(
            ToolCallingAutoConfiguration.class, Dsv32ModelAutoConfiguration.class, Dsv32ChatAutoConfiguration.class));

    @Test
    void withoutAModelSourceThereAreNoBeans() {
        runner.run(ctx -> {
            assertTrue(ctx.getBeansOfType(Model.class).isEmpty());
            assertTrue(ctx.getBeansOfType(ChatModel.class).isEmpty());
        });
    }

    @Test
    void aRemoteModelIsABeanAndShutdownClosesIt() {
        Model[] seen = new Model[1];
        runner.withPropertyValues("dsv32.model.remote=http://localhost:9", "dsv32.model.remote-model=deepseek-ai/DeepSeek-V3.2")
                .run(ctx -> {
                    seen[0] = ctx.getBean(Model.class);
                    assertFalse(seen[0].isClosed());
                    assertInstanceOf(Dsv32ChatModel.class, ctx.getBean(ChatModel.class));
                });
        assertTrue(seen[0].isClosed(), "the context's shutdown closed the model");
    }

    @Test
    void twoSourcesOrAMissingDirectoryAreReportedByName() {
        runner.withPropertyValues("dsv32.model.remote=http://localhost:9", "dsv32.model.path=tiny_chat").run(ctx -> {
            assertNotNull(ctx.getStartupFailure());
            assertTrue(rootMessage(ctx.getStartupFailure()).contains("exactly one of dsv32.model.path"), rootMessage(ctx.getStartupFailure()));
        });
        runner.withPropertyValues("dsv32.model.path=/nonexistent/checkpoint").run(ctx -> {
            assertNotNull(ctx.getStartupFailure());
            assertTrue(rootMessage(ctx.getStartupFailure()).contains("/nonexistent/checkpoint is not a directory"), rootMessage(ctx.getStartupFailure()));
        });
    }

    @Test
    void anotherChatProviderSwitchesTheChatModelOff() {
        runner.withPropertyValues("dsv32.model.remote=http://localhost:9", "spring.ai.model.chat=openai").run(ctx -> {
            assertEquals(1, ctx.getBeansOfType(Model.class).size());
            assertTrue(ctx.getBeansOfType(ChatModel.class).isEmpty());
        });
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        return t.getMessage();
    }
}
