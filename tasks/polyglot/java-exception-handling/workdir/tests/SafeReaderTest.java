import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;

public final class SafeReaderTest {

    private static int failures = 0;

    private static void check(boolean condition, String name) {
        if (condition) {
            System.out.println("ok " + name);
        } else {
            System.out.println("FAIL " + name);
            failures++;
        }
    }

    private static void finish() {
        if (failures == 0) {
            System.out.println("all tests passed");
        } else {
            System.out.println(failures + " test(s) failed");
            System.exit(1);
        }
    }

    static final class TrackingReader extends BufferedReader {
        boolean closed = false;
        final boolean fail;

        TrackingReader(String text, boolean fail) {
            super(new StringReader(text));
            this.fail = fail;
        }

        @Override
        public String readLine() throws IOException {
            if (fail) {
                throw new IOException("disk on fire");
            }
            return super.readLine();
        }

        @Override
        public void close() throws IOException {
            closed = true;
            super.close();
        }
    }

    public static void main(String[] args) throws Exception {
        TrackingReader happy = new TrackingReader("first\nsecond\n", false);
        String line = SafeReader.firstLine(happy);
        check("first".equals(line), "happy returns line");
        check(happy.closed, "happy closes source");

        TrackingReader broken = new TrackingReader("ignored", true);
        boolean propagated = false;
        try {
            SafeReader.firstLine(broken);
        } catch (IOException e) {
            propagated = "disk on fire".equals(e.getMessage());
        }
        check(propagated, "error propagated");
        check(broken.closed, "error path closes source");
        finish();
    }
}
