package dev.dsv32.springai;

import dev.dsv32.api.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.ConfigurationCondition;

/**
 * The {@link Model} bean, when {@code dsv32.model.path} or {@code dsv32.model.remote} is set and the application has no
 * {@code Model} bean of its own. The context closes it on shutdown, which frees the engine's native memory.
 */
@AutoConfiguration
@EnableConfigurationProperties(Dsv32Properties.class)
public class Dsv32ModelAutoConfiguration {
    /** The value of {@code dsv32.model.path} that means the synthetic tiny_chat model. */
    public static final String TINY_CHAT = "tiny_chat";

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @Conditional(ModelSourceConfigured.class)
    public Model dsv32Model(Dsv32Properties properties) {
        return build(properties.getModel());
    }

    /** Opens the model {@code p} describes; exactly one of {@code path} and {@code remote} must be set. */
    public static Model build(Dsv32Properties.ModelProperties p) {
        boolean hasPath = p.getPath() != null && !p.getPath().isBlank();
        if (hasPath == (p.getRemote() != null)) {
            throw new IllegalStateException("set exactly one of dsv32.model.path (a checkpoint directory or " + TINY_CHAT
                    + ") and dsv32.model.remote (an OpenAI-compatible server URL)");
        }
        Model.Builder b = Model.builder();
        if (p.getRemote() != null) {
            b.remote(p.getRemote());
            if (p.getRemoteModel() != null) b.remoteModel(p.getRemoteModel());
            if (p.getApiKey() != null) b.apiKey(p.getApiKey());
            return b.build();
        }
        if (p.getPath().equals(TINY_CHAT)) {
            b.tinyChat();
        } else {
            Path dir = Path.of(p.getPath());
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException("dsv32.model.path: " + dir.toAbsolutePath() + " is not a directory (a checkpoint directory or " + TINY_CHAT + ")");
            }
            b.path(dir);
        }
        b.backend(p.getBackend()).maxSequences(p.getMaxSequences()).threads(p.getThreads());
        if (p.getMaxContext() > 0) b.maxContext(p.getMaxContext());
        return b.build();
    }

    /** {@code dsv32.model.path} or {@code dsv32.model.remote} is set. */
    static final class ModelSourceConfigured extends AnyNestedCondition {
        ModelSourceConfigured() {
            super(ConfigurationCondition.ConfigurationPhase.REGISTER_BEAN);
        }

        @ConditionalOnProperty(prefix = "dsv32.model", name = "path")
        static final class PathSet {}

        @ConditionalOnProperty(prefix = "dsv32.model", name = "remote")
        static final class RemoteSet {}
    }
}
