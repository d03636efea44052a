public final class PaginatorTest {

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
        check(Paginator.pageCount(11, 5) == 3, "partial last page");
        check(Paginator.pageCount(10, 5) == 2, "exact multiple");
        check(Paginator.pageCount(0, 5) == 0, "zero items");
        check(Paginator.pageCount(1, 5) == 1, "one item");
        check(Paginator.pageCount(7, 1) == 7, "page size one");
        boolean rejected = false;
        try {
            Paginator.pageCount(3, 0);
        } catch (IllegalArgumentException e) {
            rejected = true;
        }
        check(rejected, "rejects page size zero");
        finish();
    }
}
