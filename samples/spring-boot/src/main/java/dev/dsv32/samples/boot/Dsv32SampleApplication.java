package dev.dsv32.samples.boot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot app serving DeepSeek-V3.2: the {@code Model} bean comes from dsv32-spring-ai's auto-configuration
 * ({@code dsv32.model.*} in application.properties; tiny_chat by default), {@link ChatController} serves it. Shutting
 * the app down closes the model and frees its native memory.
 */
@SpringBootApplication
public class Dsv32SampleApplication {
    public static void main(String[] args) {
        SpringApplication.run(Dsv32SampleApplication.class, args);
    }
}
