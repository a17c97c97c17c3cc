package dev.dsv32.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * Finds added tokens (special and role tokens such as {@code <｜User｜>}, {@code <think>}) inside text, leftmost
 * longest, as whole ids: a trie over their contents, entered only at chars that start some token.
 */
final class AddedTokens {
    private static final class Node {
        char[] keys = new char[0];
        Node[] children = new Node[0];
        int id = -1;

        Node child(char c) {
            int i = Arrays.binarySearch(keys, c);
            return i >= 0 ? children[i] : null;
        }

        Node addChild(char c) {
            int i = Arrays.binarySearch(keys, c);
            if (i >= 0) return children[i];
            i = -i - 1;
            char[] k = new char[keys.length + 1];
            Node[] ch = new Node[children.length + 1];
            System.arraycopy(keys, 0, k, 0, i);
            System.arraycopy(children, 0, ch, 0, i);
            k[i] = c;
            ch[i] = new Node();
            System.arraycopy(keys, i, k, i + 1, keys.length - i);
            System.arraycopy(children, i, ch, i + 1, children.length - i);
            keys = k;
            children = ch;
            return ch[i];
        }
    }

    private final Node root = new Node();
    /** Chars that start some added token (all of V3.2's start with '<'). */
    private final boolean[] startsAscii = new boolean[128];
    private final Node[] startNodes = new Node[0x10000];

    AddedTokens(Map<String, Integer> tokens) {
        for (Map.Entry<String, Integer> e : tokens.entrySet()) {
            String content = e.getKey();
            if (content.isEmpty()) continue;
            Node n = root;
            for (int i = 0; i < content.length(); i++) n = n.addChild(content.charAt(i));
            n.id = e.getValue();
        }
        for (int i = 0; i < root.keys.length; i++) {
            char c = root.keys[i];
            startNodes[c] = root.children[i];
            if (c < 128) startsAscii[c] = true;
        }
    }

    /** Index of the next char at or after {@code from} that may start an added token, or {@code end}. */
    int nextCandidate(String s, int from, int end) {
        for (int i = from; i < end; i++) {
            char c = s.charAt(i);
            if (c < 128 ? startsAscii[c] : startNodes[c] != null) return i;
        }
        return end;
    }

    /** The longest added token starting at {@code i}: returns (length << 32 | id), or -1. */
    long matchAt(String s, int i, int end) {
        Node n = startNodes[s.charAt(i)];
        long best = -1;
        int j = i + 1;
        while (n != null) {
            if (n.id >= 0) best = ((long) (j - i) << 32) | n.id;
            if (j >= end) break;
            n = n.child(s.charAt(j++));
        }
        return best;
    }
}
