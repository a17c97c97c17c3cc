package dev.dsv32.samples.plain;

import dev.dsv32.api.Event;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.dsv32.encoding.Message;
import java.nio.file.Path;

/** DeepSeek-V3.2 in a plain Java program: open a model, generate, stream. Args: [checkpoint dir] (default tiny_chat). */
public final class PlainJavaSample {
    public static void main(String[] args) {
        // tiny_chat: the synthetic model (real vocabulary, random weights: random text), generated on first use
        Model.Builder builder = args.length > 0 ? Model.builder().path(Path.of(args[0])) : Model.builder().tinyChat();
        try (Model model = builder.maxContext(1024).build()) {
            GenerateResult r = model.generate(GenerateRequest.builder()
                    .messages(Message.system("You are concise."), Message.user("What is 2 + 2?")).maxTokens(64).build());
            System.out.println("reasoning: " + r.reasoning());
            System.out.println("answer: " + r.content() + " [" + r.finishReason() + ", " + r.usage().completionTokens() + " tokens]");

            GenerateResult story = model.stream(GenerateRequest.builder()
                    .messages(Message.user("Tell me a story.")).thinking(false).maxTokens(48).build(), event -> {
                if (event instanceof Event.ContentDelta d) System.out.print(d.text());
            }).join();
            System.out.println();
            System.out.println("streamed " + story.usage().completionTokens() + " tokens");
        }
    }
}
