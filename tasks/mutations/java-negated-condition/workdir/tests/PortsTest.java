public final class PortsTest {

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

    public static void main(String[] args) {
        check(Ports.isValid(1), "accepts 1");
        check(Ports.isValid(8080), "accepts 8080");
        check(Ports.isValid(65535), "accepts 65535");
        check(!Ports.isValid(0), "rejects 0");
        check(!Ports.isValid(65536), "rejects 65536");
        check(!Ports.isValid(-22), "rejects negative");
        finish();
    }
}
