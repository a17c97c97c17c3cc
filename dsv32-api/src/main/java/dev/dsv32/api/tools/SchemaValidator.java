package dev.dsv32.api.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks tool-call arguments against a JSON schema (the subset tools use: {@code type} (one or a list), {@code enum},
 * {@code const}, {@code properties}, {@code required}, {@code additionalProperties}, {@code items}, {@code minimum},
 * {@code maximum}, {@code exclusiveMinimum}, {@code exclusiveMaximum}, {@code minLength}, {@code maxLength},
 * {@code minItems}, {@code maxItems}, {@code anyOf}, {@code oneOf}, {@code allOf}). Other keywords are ignored. Each
 * problem is reported with its JSON path, e.g. {@code $.days: expected integer, got string "two"}.
 */
public final class SchemaValidator {
    private SchemaValidator() {}

    /** The problems of {@code value} against {@code schema}; empty when it conforms. */
    public static List<String> validate(JsonNode schema, JsonNode value) {
        List<String> errors = new ArrayList<>();
        check(schema, value, "$", errors);
        return errors;
    }

    private static void check(JsonNode schema, JsonNode v, String path, List<String> errors) {
        if (schema == null || !schema.isObject()) return;
        JsonNode type = schema.get("type");
        if (type != null) {
            boolean ok = false;
            if (type.isArray()) {
                for (JsonNode t : type) ok |= hasType(v, t.asText());
            } else {
                ok = hasType(v, type.asText());
            }
            if (!ok) {
                errors.add(path + ": expected " + (type.isArray() ? "one of " + type : type.asText()) + ", got " + describe(v));
                return;
            }
        }
        JsonNode en = schema.get("enum");
        if (en != null && en.isArray()) {
            boolean found = false;
            for (JsonNode e : en) found |= equal(e, v);
            if (!found) errors.add(path + ": " + describe(v) + " is not one of " + en);
        }
        JsonNode cst = schema.get("const");
        if (cst != null && !equal(cst, v)) errors.add(path + ": expected " + cst + ", got " + describe(v));
        if (v.isNumber()) {
            double d = v.doubleValue();
            if (schema.has("minimum") && d < schema.get("minimum").doubleValue()) errors.add(path + ": " + v + " is less than the minimum " + schema.get("minimum"));
            if (schema.has("maximum") && d > schema.get("maximum").doubleValue()) errors.add(path + ": " + v + " is greater than the maximum " + schema.get("maximum"));
            if (schema.has("exclusiveMinimum") && schema.get("exclusiveMinimum").isNumber() && d <= schema.get("exclusiveMinimum").doubleValue()) {
                errors.add(path + ": " + v + " must be greater than " + schema.get("exclusiveMinimum"));
            }
            if (schema.has("exclusiveMaximum") && schema.get("exclusiveMaximum").isNumber() && d >= schema.get("exclusiveMaximum").doubleValue()) {
                errors.add(path + ": " + v + " must be less than " + schema.get("exclusiveMaximum"));
            }
        }
        if (v.isTextual()) {
            int n = v.textValue().codePointCount(0, v.textValue().length());
            if (schema.has("minLength") && n < schema.get("minLength").asInt()) errors.add(path + ": shorter than " + schema.get("minLength") + " characters");
            if (schema.has("maxLength") && n > schema.get("maxLength").asInt()) errors.add(path + ": longer than " + schema.get("maxLength") + " characters");
        }
        if (v.isArray()) {
            if (schema.has("minItems") && v.size() < schema.get("minItems").asInt()) errors.add(path + ": fewer than " + schema.get("minItems") + " items");
            if (schema.has("maxItems") && v.size() > schema.get("maxItems").asInt()) errors.add(path + ": more than " + schema.get("maxItems") + " items");
            JsonNode items = schema.get("items");
            if (items != null && items.isObject()) {
                for (int i = 0; i < v.size(); i++) check(items, v.get(i), path + "[" + i + "]", errors);
            }
        }
        if (v.isObject()) {
            JsonNode props = schema.get("properties");
            JsonNode req = schema.get("required");
            if (req != null && req.isArray()) {
                for (JsonNode r : req) {
                    if (!v.has(r.asText())) errors.add(path + ": missing required property \"" + r.asText() + "\"");
                }
            }
            JsonNode extra = schema.get("additionalProperties");
            for (Map.Entry<String, JsonNode> e : v.properties()) {
                JsonNode ps = props != null ? props.get(e.getKey()) : null;
                String p = path + "." + e.getKey();
                if (ps != null) {
                    check(ps, e.getValue(), p, errors);
                } else if (extra != null && extra.isBoolean() && !extra.booleanValue()) {
                    errors.add(path + ": unknown property \"" + e.getKey() + "\"" + (props != null ? " (expected " + names(props) + ")" : ""));
                } else if (extra != null && extra.isObject()) {
                    check(extra, e.getValue(), p, errors);
                }
            }
        }
        for (String k : new String[] {"anyOf", "oneOf"}) {
            JsonNode alts = schema.get(k);
            if (alts == null || !alts.isArray()) continue;
            int matches = 0;
            for (JsonNode alt : alts) if (validate(alt, v).isEmpty()) matches++;
            if (matches == 0 || (k.equals("oneOf") && matches > 1)) {
                errors.add(path + ": " + describe(v) + (matches == 0 ? " matches none of the " : " matches more than one of the ") + k + " schemas");
            }
        }
        JsonNode all = schema.get("allOf");
        if (all != null && all.isArray()) for (JsonNode s : all) check(s, v, path, errors);
    }

    private static String names(JsonNode props) {
        List<String> n = new ArrayList<>();
        props.fieldNames().forEachRemaining(n::add);
        return String.join(", ", n);
    }

    private static boolean equal(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue()) == 0;
        return a.equals(b);
    }

    private static boolean hasType(JsonNode v, String type) {
        switch (type) {
            case "string": return v.isTextual();
            case "integer": return v.isIntegralNumber() || (v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()) && Double.isFinite(v.doubleValue()));
            case "number": return v.isNumber();
            case "boolean": return v.isBoolean();
            case "object": return v.isObject();
            case "array": return v.isArray();
            case "null": return v.isNull();
            default: return true; // unknown type names are not checked
        }
    }

    private static String describe(JsonNode v) {
        String t = v.isNull() ? "null" : v.isTextual() ? "string" : v.isIntegralNumber() ? "integer" : v.isNumber() ? "number"
                : v.isBoolean() ? "boolean" : v.isArray() ? "array" : v.isObject() ? "object" : v.getNodeType().toString();
        String s = v.toString();
        if (s.length() > 40) s = s.substring(0, 37) + "...";
        return v.isContainerNode() ? t : t + " " + s;
    }
}
