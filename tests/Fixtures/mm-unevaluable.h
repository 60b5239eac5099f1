#define VM_READ 0x1
#if FOO_LEVEL > 2
#define VM_FOO 0x2
#endif
#define VM_BAR INIT_VM_FLAG(BAR)
#define VM_WRITE (1 << 1)
