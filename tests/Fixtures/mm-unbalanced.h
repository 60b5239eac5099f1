#define VM_READ 0x1
#ifdef CONFIG_X
#define VM_WRITE 0x2
