package dev.dsv32.springai;

import dev.dsv32.api.Backend;
import java.net.URI;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code dsv32.*}: where the model comes from ({@code dsv32.model.path} — a checkpoint directory or {@code tiny_chat} —
 * or {@code dsv32.model.remote}, an OpenAI-compatible server) and the chat defaults ({@code dsv32.chat.*}).
 */
@ConfigurationProperties(prefix = "dsv32")
public class Dsv32Properties {
    private final ModelProperties model = new ModelProperties();
    private final ChatProperties chat = new ChatProperties();

    public ModelProperties getModel() {
        return model;
    }

    public ChatProperties getChat() {
        return chat;
    }

    /** {@code dsv32.model.*}: the {@link dev.dsv32.api.Model} bean. */
    public static class ModelProperties {
        /** A Hugging Face checkpoint directory, or {@code tiny_chat} (the synthetic model, generated on first use). */
        private String path;
        /** Base URL of an OpenAI-compatible server serving V3.2 (instead of {@code path}). */
        private URI remote;
        /** The model name sent to the remote server. */
        private String remoteModel;
        /** Sent as a bearer token to the remote server. */
        private String apiKey;
        /** AUTO, CPU, CUDA or HIP. */
        private Backend backend = Backend.AUTO;
        /** Tokens per sequence (prompt plus completion); 0 = the checkpoint's, at most 4096. */
        private int maxContext;
        /** Concurrent sequences (requests plus sessions). */
        private int maxSequences = 16;
        /** Engine threads; 0 = all cores. */
        private int threads;

        public String getPath() {
            return path;
        }

        public void setPath(String path) {
            this.path = path;
        }

        public URI getRemote() {
            return remote;
        }

        public void setRemote(URI remote) {
            this.remote = remote;
        }

        public String getRemoteModel() {
            return remoteModel;
        }

        public void setRemoteModel(String remoteModel) {
            this.remoteModel = remoteModel;
        }

        public String getApiKey() {
            return apiKey;
        }

        public void setApiKey(String apiKey) {
            this.apiKey = apiKey;
        }

        public Backend getBackend() {
            return backend;
        }

        public void setBackend(Backend backend) {
            this.backend = backend;
        }

        public int getMaxContext() {
            return maxContext;
        }

        public void setMaxContext(int maxContext) {
            this.maxContext = maxContext;
        }

        public int getMaxSequences() {
            return maxSequences;
        }

        public void setMaxSequences(int maxSequences) {
            this.maxSequences = maxSequences;
        }

        public int getThreads() {
            return threads;
        }

        public void setThreads(int threads) {
            this.threads = threads;
        }
    }

    /** {@code dsv32.chat.*}: defaults of the Spring AI chat model (a prompt's options override them). */
    public static class ChatProperties {
        /** Thinking mode; default on. */
        private Boolean thinking;
        private Double temperature;
        private Double topP;
        private Integer topK;
        private Integer maxTokens;
        private Long seed;

        public Boolean getThinking() {
            return thinking;
        }

        public void setThinking(Boolean thinking) {
            this.thinking = thinking;
        }

        public Double getTemperature() {
            return temperature;
        }

        public void setTemperature(Double temperature) {
            this.temperature = temperature;
        }

        public Double getTopP() {
            return topP;
        }

        public void setTopP(Double topP) {
            this.topP = topP;
        }

        public Integer getTopK() {
            return topK;
        }

        public void setTopK(Integer topK) {
            this.topK = topK;
        }

        public Integer getMaxTokens() {
            return maxTokens;
        }

        public void setMaxTokens(Integer maxTokens) {
            this.maxTokens = maxTokens;
        }

        public Long getSeed() {
            return seed;
        }

        public void setSeed(Long seed) {
            this.seed = seed;
        }

        /** These defaults as chat options. */
        public Dsv32ChatOptions toOptions() {
            return Dsv32ChatOptions.newBuilder().thinking(thinking).temperature(temperature).topP(topP).topK(topK)
                    .maxTokens(maxTokens).seed(seed).build();
        }
    }
}
