package dev.dsv32.api.tools;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Describes a {@link Tool} method parameter, or a record component / field of an argument type. */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.PARAMETER, ElementType.FIELD, ElementType.RECORD_COMPONENT, ElementType.METHOD})
public @interface Param {
    /** The description the model reads. */
    String value() default "";

    /** The property name; default the parameter's compiled name (compile with {@code -parameters}). */
    String name() default "";

    /** Whether the model must give it; {@code Optional} parameters are never required. */
    boolean required() default true;
}
