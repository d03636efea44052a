/* The one version string: what "cab version" prints and what each cell.json
 * records as environment.cab_version. */
#ifndef CAB_COMMON_VERSION_H
#define CAB_COMMON_VERSION_H

#define CAB_VERSION "0.1.0"

#endif
