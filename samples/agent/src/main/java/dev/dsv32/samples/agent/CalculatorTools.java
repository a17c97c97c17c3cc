package dev.dsv32.samples.agent;

import dev.dsv32.api.tools.Param;
import dev.dsv32.api.tools.Tool;
import java.math.BigDecimal;

/** Exact-enough arithmetic for the model, which should not do sums in its head. */
public final class CalculatorTools {
    @Tool("Evaluates an arithmetic expression: numbers, + - * / % ^, parentheses and sqrt(x). Returns the value.")
    public String calculate(@Param("the expression, e.g. (12.5 + 7) * 3 ^ 2") String expression) {
        double v = Arithmetic.evaluate(expression);
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
