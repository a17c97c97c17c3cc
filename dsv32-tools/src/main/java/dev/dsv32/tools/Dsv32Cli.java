package dev.dsv32.tools;

import dev.dsv32.Dsv32Exception;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code dsv32}: command-line front end of the dsv32-java SDK. Subcommands: {@code chat} (a REPL, or one turn with
 * {@code --prompt}), {@code generate} (one completion), {@code serve} (an OpenAI-compatible HTTP server), {@code encode} (messages to prompt),
 * {@code parse} (model output to an assistant message), {@code tokenize} / {@code detokenize} (text to and from
 * token ids), {@code logits} (token ids through the native engine, logits as .npy), {@code make-tiny} (synthetic checkpoints), {@code convert} (pre-sharded per-rank files),
 * {@code bench} (engine speed against the memory-bandwidth roofline), {@code demo}.
 *
 * <p>Exit status: 0 success; {@value #EXIT_INPUT_ERROR} bad options or input the encoder/parser rejects (one-line
 * reason on stderr); 1 internal error. All text output is UTF-8 regardless of the locale.
 */
@Command(name = "dsv32",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "DeepSeek-V3.2 tools: chat, generate and serve (OpenAI-compatible HTTP), build prompts byte-exactly, parse model output, tokenize and detokenize, compute logits.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success", "1:internal error", "2:invalid options, or input rejected by the encoder, parser or engine"})
public final class Dsv32Cli {
    /** Exit status for bad options and rejected input. */
    public static final int EXIT_INPUT_ERROR = 2;
    /** Exit status for unexpected failures (bugs). */
    public static final int EXIT_INTERNAL_ERROR = 1;

    /** The subcommands, in help order. */
    static final List<String> SUBCOMMANDS = List.of("chat", "generate", "serve", "encode", "parse", "tokenize", "detokenize", "logits", "make-tiny",
            "convert", "bench", "demo");

    /**
     * A configured command line writing to {@code out} and {@code err} (callers give UTF-8 writers and flush them).
     * Commands that read standard input (file name {@code -}) read {@code stdin}.
     */
    public static CommandLine newCommandLine(PrintWriter out, PrintWriter err, InputStream stdin) {
        return newCommandLine(out, err, stdin, SUBCOMMANDS);
    }

    /**
     * As {@link #newCommandLine(PrintWriter, PrintWriter, InputStream)} with only the named subcommands: building a
     * picocli command model is reflective and slow to start, so a run registers just the subcommand it invokes.
     */
    static CommandLine newCommandLine(PrintWriter out, PrintWriter err, InputStream stdin, List<String> subcommands) {
        CommandLine.IFactory factory = CommandLine.defaultFactory();
        CommandLine cl = new CommandLine(new Dsv32Cli(), factory);
        for (String name : subcommands) {
            Object command = switch (name) {
                case "chat" -> new ChatCommand(stdin);
                case "generate" -> new GenerateCommand();
                case "serve" -> new ServeCommand();
                case "encode" -> new EncodeCommand(stdin);
                case "parse" -> new ParseCommand(stdin);
                case "tokenize" -> new TokenizeCommand(stdin);
                case "detokenize" -> new DetokenizeCommand(stdin);
                case "logits" -> new LogitsCommand(stdin);
                case "make-tiny" -> new MakeTinyCommand();
                case "convert" -> new ConvertCommand();
                case "bench" -> new BenchCommand();
                case "demo" -> new DemoCommand();
                default -> throw new IllegalArgumentException("no subcommand " + name);
            };
            cl.addSubcommand(name, new CommandLine(command, factory));
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> handleExecutionException(ex, cmd));
        cl.setParameterExceptionHandler(Dsv32Cli::handleParameterException);
        return cl;
    }

    /** Runs one command line and returns its exit status; flushes {@code out} and {@code err}. */
    public static int run(PrintWriter out, PrintWriter err, InputStream stdin, String... args) {
        // "dsv32 encode ...": only that subcommand is needed; anything else (help, typos) gets all of them.
        List<String> needed = args.length > 0 && SUBCOMMANDS.contains(args[0]) ? List.of(args[0]) : SUBCOMMANDS;
        int rc;
        try {
            rc = newCommandLine(out, err, stdin, needed).execute(args);
        } finally {
            out.flush();
            err.flush();
        }
        return rc;
    }

    public static void main(String[] args) {
        PrintWriter out = Io.utf8Writer(new FileOutputStream(FileDescriptor.out));
        PrintWriter err = Io.utf8Writer(new FileOutputStream(FileDescriptor.err));
        int rc = run(out, err, System.in, args);
        if (out.checkError() && rc == 0) {
            err.println("dsv32: error writing to standard output");
            err.flush();
            rc = EXIT_INTERNAL_ERROR;
        }
        if (Boolean.getBoolean(Warmup.PROPERTY)) Warmup.run();
        System.exit(rc);
    }

    private static String commandPath(CommandLine cmd) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cmd; c != null; c = c.getParent()) {
            sb.insert(0, sb.length() == 0 ? c.getCommandName() : c.getCommandName() + " ");
        }
        return sb.toString();
    }

    private static int handleExecutionException(Exception ex, CommandLine cmd) {
        PrintWriter err = cmd.getErr();
        if (ex instanceof CliException || ex instanceof Dsv32Exception || ex instanceof IllegalArgumentException) {
            err.println(commandPath(cmd) + ": " + Io.oneLine(ex.getMessage()));
            err.flush();
            return EXIT_INPUT_ERROR;
        }
        err.println(commandPath(cmd) + ": internal error: " + Io.oneLine(String.valueOf(ex)));
        ex.printStackTrace(err);
        err.flush();
        return EXIT_INTERNAL_ERROR;
    }

    private static int handleParameterException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(commandPath(cmd) + ": " + Io.oneLine(ex.getMessage()));
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + commandPath(cmd) + " --help' for more information.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }
}
