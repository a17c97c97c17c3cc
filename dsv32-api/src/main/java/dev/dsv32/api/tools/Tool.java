package dev.dsv32.api.tools;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method as a tool the model may call ({@link ToolRegistry.Builder#add(Object)}). Parameters become the
 * properties of the tool's JSON schema (named by {@link Param} or the compiled parameter names); the return value is
 * sent back to the model (a String as is, anything else as JSON).
 *
 * <pre>{@code
 * @Tool("Current weather in a city")
 * Weather weather(@Param("City name") String city, @Param(value = "Unit", required = false) Optional<Unit> unit) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Tool {
    /** The description the model reads. */
    String value() default "";

    /** The tool's name; default the method name. */
    String name() default "";
}
