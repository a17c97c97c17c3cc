package dev.dsv32.tools;

import java.io.InputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "chat", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, description = "Chat (REPL).")
final class ChatCommand implements Callable<Integer> {
    private final InputStream stdin;

    ChatCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() {
        return 0;
    }
}
