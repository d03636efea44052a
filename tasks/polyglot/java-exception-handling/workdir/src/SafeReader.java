import java.io.BufferedReader;
import java.io.IOException;

public final class SafeReader {
    private SafeReader() {
    }

    /** Reads the first line of SOURCE and always closes SOURCE. */
    public static String firstLine(BufferedReader source) throws IOException {
        String line = source.readLine();
        source.close();
        return line;
    }
}
