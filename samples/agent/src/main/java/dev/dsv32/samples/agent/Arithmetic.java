package dev.dsv32.samples.agent;

/**
 * Evaluates arithmetic: numbers, {@code + - * / % ^}, parentheses, unary minus, and {@code sqrt(x)}. Recursive descent
 * over the usual precedence ({@code ^} binds tightest and to the right). Errors name the position.
 */
final class Arithmetic {
    private final String s;
    private int pos;

    private Arithmetic(String s) {
        this.s = s;
    }

    static double evaluate(String expression) {
        if (expression == null || expression.isBlank()) throw new IllegalArgumentException("the expression is empty");
        Arithmetic a = new Arithmetic(expression);
        double v = a.sum();
        a.skipSpaces();
        if (a.pos < a.s.length()) throw a.error("unexpected '" + a.s.charAt(a.pos) + "'");
        if (!Double.isFinite(v)) throw new IllegalArgumentException("the result is not a finite number (" + v + ")");
        return v;
    }

    private double sum() {
        double v = product();
        while (true) {
            if (eat('+')) v += product();
            else if (eat('-')) v -= product();
            else return v;
        }
    }

    private double product() {
        double v = power();
        while (true) {
            if (eat('*')) {
                v *= power();
            } else if (eat('/')) {
                double d = power();
                if (d == 0) throw error("division by zero");
                v /= d;
            } else if (eat('%')) {
                double d = power();
                if (d == 0) throw error("division by zero");
                v %= d;
            } else {
                return v;
            }
        }
    }

    private double power() {
        double base = unary();
        return eat('^') ? Math.pow(base, power()) : base;
    }

    private double unary() {
        if (eat('-')) return -unary();
        if (eat('+')) return unary();
        return atom();
    }

    private double atom() {
        skipSpaces();
        if (eat('(')) {
            double v = sum();
            if (!eat(')')) throw error("missing ')'");
            return v;
        }
        if (s.startsWith("sqrt", pos)) {
            pos += 4;
            if (!eat('(')) throw error("sqrt needs '('");
            double v = sum();
            if (!eat(')')) throw error("missing ')'");
            if (v < 0) throw error("sqrt of a negative number");
            return Math.sqrt(v);
        }
        int start = pos;
        while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '.')) pos++;
        if (start == pos) throw error(pos < s.length() ? "unexpected '" + s.charAt(pos) + "'" : "unexpected end");
        try {
            return Double.parseDouble(s.substring(start, pos));
        } catch (NumberFormatException e) {
            throw error("bad number '" + s.substring(start, pos) + "'");
        }
    }

    private boolean eat(char c) {
        skipSpaces();
        if (pos < s.length() && s.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void skipSpaces() {
        while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at position " + pos + " of \"" + s + "\"");
    }
}
