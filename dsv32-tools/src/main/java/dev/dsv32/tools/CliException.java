package dev.dsv32.tools;

/**
 * A problem with what the user gave the CLI (an unreadable file, bad JSON, input the encoder or parser rejects).
 * {@link Dsv32Cli} prints its message as one line on stderr and exits with status {@value Dsv32Cli#EXIT_INPUT_ERROR}.
 */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }

    CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
