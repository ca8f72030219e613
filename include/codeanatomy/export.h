/* Symbol export macro shared by every public header. */
#ifndef CODEANATOMY_EXPORT_H
#define CODEANATOMY_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define CA_EXTERN __attribute__((visibility("default")))
#else
#define CA_EXTERN
#endif

#ifdef __cplusplus
#define CA_BEGIN_DECLS extern "C" {
#define CA_END_DECLS }
#else
#define CA_BEGIN_DECLS
#define CA_END_DECLS
#endif

#endif
