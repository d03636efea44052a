public final class Ports {
    private Ports() {
    }

    /** True for a usable TCP port: 1 to 65535. */
    public static boolean isValid(int port) {
        return !(port < 1 || port > 65535);
    }
}
