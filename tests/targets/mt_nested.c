// cflags: -pthread
/* 4 threads each create 4 threads (threads creating threads at the same
 * time, so clone events and new-thread stops interleave); every leaf calls
 * leaf_mark(). Exit 0 iff all 16 leaves ran. */
#include <pthread.h>

volatile long leaves;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void leaf_mark(void)
{
    pthread_mutex_lock(&lock);
    leaves++;
    pthread_mutex_unlock(&lock);
}

static void *leaf(void *arg) { (void)arg; leaf_mark(); return NULL; }

static void *branch(void *arg)
{
    pthread_t th[4];
    (void)arg;
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, leaf, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    return NULL;
}

int main(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, branch, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    return leaves == 16 ? 0 : 1;
}
