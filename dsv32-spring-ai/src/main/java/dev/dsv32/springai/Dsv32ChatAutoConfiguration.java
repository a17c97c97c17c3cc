package dev.dsv32.springai;

import dev.dsv32.api.Model;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The Spring AI {@link ChatModel} over the application's {@link Model} bean (the auto-configured one or its own), with
 * Spring AI's {@link ToolCallingManager} and the {@code dsv32.chat.*} defaults. Off when {@code spring.ai.model.chat}
 * names another provider, or when the application defines a {@code ChatModel}.
 */
@AutoConfiguration(after = {ToolCallingAutoConfiguration.class, Dsv32ModelAutoConfiguration.class})
@EnableConfigurationProperties(Dsv32Properties.class)
@ConditionalOnBean(Model.class)
@ConditionalOnProperty(name = "spring.ai.model.chat", havingValue = "dsv32", matchIfMissing = true)
public class Dsv32ChatAutoConfiguration {
    @Bean
    @ConditionalOnMissingBean(ChatModel.class)
    public Dsv32ChatModel dsv32ChatModel(Model model, Dsv32Properties properties, ToolCallingManager toolCallingManager,
                                         ObjectProvider<ToolExecutionEligibilityPredicate> eligibility) {
        return new Dsv32ChatModel(model, properties.getChat().toOptions(), toolCallingManager, eligibility.getIfUnique(() -> null));
    }
}
