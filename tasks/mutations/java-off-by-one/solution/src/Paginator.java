public final class Paginator {
    private Paginator() {
    }

    /** How many pages TOTALITEMS items fill, PAGESIZE (at least 1) per page. */
    public static int pageCount(int totalItems, int pageSize) {
        if (pageSize < 1) {
            throw new IllegalArgumentException("pageSize must be at least 1");
        }
        return (totalItems + pageSize - 1) / pageSize;
    }
}
