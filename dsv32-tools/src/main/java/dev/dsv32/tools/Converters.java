package dev.dsv32.tools;

import dev.dsv32.encoding.ModelVariant;
import dev.dsv32.encoding.ThinkingMode;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option value converters that accept exactly the wire names ({@code thinking}, {@code chat}, ...). */
final class Converters {
    private Converters() {}

    static final class ThinkingModeConverter implements ITypeConverter<ThinkingMode> {
        @Override
        public ThinkingMode convert(String value) {
            for (ThinkingMode m : ThinkingMode.values()) {
                if (m.wireName().equals(value)) return m;
            }
            throw new TypeConversionException("'" + value + "' is not a thinking mode (expected thinking or chat)");
        }
    }

    static final class ThinkingModeCandidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("thinking", "chat").iterator();
        }
    }

    static final class VariantConverter implements ITypeConverter<ModelVariant> {
        @Override
        public ModelVariant convert(String value) {
            for (ModelVariant v : ModelVariant.values()) {
                if (v.wireName().equals(value)) return v;
            }
            throw new TypeConversionException("'" + value + "' is not a model variant (expected standard or speciale)");
        }
    }

    static final class VariantCandidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("standard", "speciale").iterator();
        }
    }

    /** {@code true} or {@code false}, nothing else (case-insensitive). */
    static final class StrictBooleanConverter implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            if ("true".equalsIgnoreCase(value)) return Boolean.TRUE;
            if ("false".equalsIgnoreCase(value)) return Boolean.FALSE;
            throw new TypeConversionException("'" + value + "' is not a boolean (expected true or false)");
        }
    }

    /** {@code on}/{@code off} (also true/false), case-insensitive. */
    static final class OnOff implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            String v = value.toLowerCase(java.util.Locale.ROOT);
            if (v.equals("on") || v.equals("true")) return Boolean.TRUE;
            if (v.equals("off") || v.equals("false")) return Boolean.FALSE;
            throw new TypeConversionException("'" + value + "' is not on or off");
        }
    }
}
